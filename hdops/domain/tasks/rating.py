"""Rating on an integer scale, e.g. 1-10 with labels at the ends."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from hdops import actions
from hdops.chat import Button, Control, Option, Select
from hdops.domain.tasks.base import AnswerBase, TaskSettings, TaskType
from hdops.errors import InvalidInput

MAX_BUTTONS = 10  # up to 10 points render as buttons, more as a select

MAX_SCALE_POINTS = 25  # Discord selects hold 25 options; keep every platform able to show it


class Scale(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min: int = 1
    max: int = 10
    labels: dict[int, str] = Field(default_factory=dict)

    @field_validator("max")
    @classmethod
    def _above_min(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("min")
        if low is None:
            return value
        if value <= low:
            raise ValueError("must be greater than min")
        if value - low + 1 > MAX_SCALE_POINTS:
            raise ValueError(f"a scale has at most {MAX_SCALE_POINTS} points")
        return value

    @field_validator("labels")
    @classmethod
    def _labels_on_scale(cls, value: dict[int, str], info: ValidationInfo) -> dict[int, str]:
        low, high = info.data.get("min"), info.data.get("max")
        if low is not None and high is not None:
            outside = [k for k in value if not low <= k <= high]
            if outside:
                raise ValueError(f"labels outside the scale: {sorted(outside)}")
        if any(not (0 < len(v) <= 60) for v in value.values()):
            raise ValueError("labels must be 1-60 characters")
        return value


class RatingSettings(TaskSettings):
    type: Literal["rating"] = "rating"
    scale: Scale = Field(default_factory=Scale)
    # A gold rating within this distance counts as correct.
    gold_tolerance: int = Field(0, ge=0)


class RatingAnswer(AnswerBase):
    rating: int


class Rating(TaskType[RatingSettings, RatingAnswer]):
    name = "rating"
    settings_model = RatingSettings
    answer_model = RatingAnswer

    def check_answer(self, settings: RatingSettings, answer: RatingAnswer) -> list[str]:
        lo, hi = settings.scale.min, settings.scale.max
        if not lo <= answer.rating <= hi:
            return [f"answer.rating: must be between {lo} and {hi}"]
        return []

    def is_correct(
        self, settings: RatingSettings, answer: dict[str, Any], gold: dict[str, Any]
    ) -> bool | None:
        try:
            return abs(int(answer["rating"]) - int(gold["rating"])) <= settings.gold_tolerance
        except (KeyError, TypeError, ValueError):
            return False

    def label(self, settings: RatingSettings, answer: dict[str, Any]) -> str | None:
        value = answer.get("rating")
        return str(value) if value is not None else None

    def _point_label(self, settings: RatingSettings, point: int) -> str:
        label = settings.scale.labels.get(point)
        return f"{point} ({label})" if label else str(point)

    def controls(self, settings: RatingSettings, assignment_id: int) -> list[Control]:
        points = range(settings.scale.min, settings.scale.max + 1)
        if len(points) <= MAX_BUTTONS:
            return [
                Button(
                    action_id=actions.encode(actions.ANSWER, assignment_id, str(p)),
                    label=self._point_label(settings, p),
                )
                for p in points
            ]
        return [
            Select(
                action_id=actions.encode(actions.ANSWER, assignment_id),
                placeholder="Choose a rating",
                options=[
                    Option(label=self._point_label(settings, p), value=str(p)) for p in points
                ],
            )
        ]

    def answer_from_action(
        self, settings: RatingSettings, arg: str | None, values: list[str]
    ) -> dict[str, Any]:
        value = arg if arg is not None else (values[0] if values else None)
        try:
            return {"rating": int(str(value))}
        except ValueError:
            raise InvalidInput("Choose a rating from the scale.") from None

    def describe(self, settings: RatingSettings, answer: dict[str, Any]) -> str:
        return f"Rating {self._point_label(settings, int(answer['rating']))}"
