"""What every task type provides.

A task type is one module in this package that defines:
* a settings model (the `task:` block of a project spec, validated with paths),
* an answer model (what a contractor submits),
* how an answer is compared with gold, and
* the categorical label an answer stands for (for agreement and aggregation).

`registry.py` lists the modules; adding a type is one new module plus one line.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hdops import actions
from hdops.chat import Button, Control, FormField
from hdops.domain.validation import problems_from
from hdops.errors import InvalidInput

RATIONALE_MAX_CHARS = 4000


class TaskSettings(BaseModel):
    """Fields shared by every task type's `task:` block."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    fields: list[str] = Field(min_length=1, max_length=20)
    rationale: Literal["none", "optional", "required"] = "none"

    @field_validator("fields")
    @classmethod
    def _unique_fields(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("field names must be unique")
        for name in value:
            if not name or len(name) > 64:
                raise ValueError("field names must be 1-64 characters")
        return value


class AnswerBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rationale: str | None = Field(None, max_length=RATIONALE_MAX_CHARS)


S = TypeVar("S", bound=TaskSettings)
A = TypeVar("A", bound=AnswerBase)


class TaskType(Generic[S, A]):
    """Behaviour of one task type. Subclasses set the class attributes and override
    `check_answer`, `is_correct` and `label`."""

    name: ClassVar[str]
    # Answers are categories that can be agreed on and aggregated by label (pairwise,
    # choice); ratings are aggregated as numbers, text not at all.
    categorical: ClassVar[bool] = False
    settings_model: type[S]
    answer_model: type[A]

    def parse_settings(self, raw: dict[str, Any]) -> S:
        return self.settings_model.model_validate(raw)

    def validate_answer(self, settings: S, raw: dict[str, Any]) -> dict[str, Any]:
        """Validate a submitted answer and return its canonical JSON form.

        Raises `InvalidInput` listing every problem, each `answer.<field>: reason`."""
        try:
            answer = self.answer_model.model_validate(raw)
        except ValidationError as exc:
            raise InvalidInput(
                "That answer is not valid.", problems_from(exc, ("answer",))
            ) from exc
        problems = list(self.check_answer(settings, answer))
        rationale = (answer.rationale or "").strip()
        if settings.rationale == "required" and not rationale:
            problems.append("answer.rationale: a rationale is required")
        if settings.rationale == "none" and rationale:
            problems.append("answer.rationale: this project does not take a rationale")
        if problems:
            raise InvalidInput("That answer is not valid.", problems)
        data = answer.model_dump(mode="json", exclude_none=True)
        if rationale:
            data["rationale"] = rationale
        else:
            data.pop("rationale", None)
        return data

    def check_answer(self, settings: S, answer: A) -> list[str]:
        """Settings-dependent checks; return problems as `answer.field: reason`."""
        return []

    def is_correct(self, settings: S, answer: dict[str, Any], gold: dict[str, Any]) -> bool | None:
        """Whether an answer matches gold; None when this type cannot tell."""
        raise NotImplementedError

    def label(self, settings: S, answer: dict[str, Any]) -> str | None:
        """The categorical label of an answer, for agreement; None if not categorical."""
        return None

    def label_order(self, settings: S) -> list[str]:
        """The labels `label` can give, in the order reports list them; empty when
        answers are not categorical or their labels are not known ahead."""
        return []

    # ---- chat: how a contractor gives this answer -------------------------------

    def controls(self, settings: S, assignment_id: int) -> list[Control]:
        """Buttons/selects that record an answer (Skip/Ask are added by the renderer)."""
        return [
            Button(
                action_id=actions.encode(actions.TEXT, assignment_id),
                label="Write answer",
                style="primary",
            )
        ]

    def answer_from_action(self, settings: S, arg: str | None, values: list[str]) -> dict[str, Any]:
        """Turn a pressed button's arg or a select's chosen values into an answer dict."""
        raise InvalidInput("This task is answered in a form.")

    def answer_form_fields(self, settings: S) -> list[FormField]:
        """Fields of the answer form (text answers; rationale is added by the engine)."""
        return []

    def answer_from_form(self, settings: S, fields: dict[str, str]) -> dict[str, Any]:
        raise InvalidInput("This task is answered with the buttons on the task message.")

    def describe(self, settings: S, answer: dict[str, Any]) -> str:
        """The recorded answer in a few words, shown on the task message afterwards."""
        return ", ".join(f"{k}: {v}" for k, v in answer.items() if k != "rationale")
