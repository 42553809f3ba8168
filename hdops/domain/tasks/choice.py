"""Classification: one label (or several with `multiple: true`) from fixed options."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from hdops import actions
from hdops.chat import Button, Control, Option, Select
from hdops.domain.tasks.base import AnswerBase, TaskSettings, TaskType
from hdops.errors import InvalidInput

MAX_BUTTONS = 5

MAX_OPTIONS = 25  # Discord selects hold 25 options; Slack 100


class ChoiceSettings(TaskSettings):
    type: Literal["choice"] = "choice"
    options: list[str] = Field(min_length=2, max_length=MAX_OPTIONS)
    multiple: bool = False

    @field_validator("options")
    @classmethod
    def _clean_options(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("options must be unique")
        if any(not (0 < len(v) <= 75) for v in value):
            raise ValueError("options must be 1-75 characters")
        return value


class ChoiceAnswer(AnswerBase):
    labels: list[str] = Field(min_length=1, max_length=MAX_OPTIONS)


class Choice(TaskType[ChoiceSettings, ChoiceAnswer]):
    name = "choice"
    categorical = True
    settings_model = ChoiceSettings
    answer_model = ChoiceAnswer

    def check_answer(self, settings: ChoiceSettings, answer: ChoiceAnswer) -> list[str]:
        problems = []
        unknown = [label for label in answer.labels if label not in settings.options]
        if unknown:
            problems.append(f"answer.labels: unknown option(s) {', '.join(unknown)}")
        if len(set(answer.labels)) != len(answer.labels):
            problems.append("answer.labels: an option is given twice")
        if not settings.multiple and len(answer.labels) != 1:
            problems.append("answer.labels: choose exactly one option")
        return problems

    def is_correct(
        self, settings: ChoiceSettings, answer: dict[str, Any], gold: dict[str, Any]
    ) -> bool | None:
        return set(answer.get("labels", [])) == set(gold.get("labels", []))

    def label(self, settings: ChoiceSettings, answer: dict[str, Any]) -> str | None:
        labels = answer.get("labels")
        return "|".join(sorted(labels)) if labels else None

    def label_order(self, settings: ChoiceSettings) -> list[str]:
        """The options; with `multiple`, a label is a set of options, listed as seen."""
        return [] if settings.multiple else list(settings.options)

    def controls(self, settings: ChoiceSettings, assignment_id: int) -> list[Control]:
        if not settings.multiple and len(settings.options) <= MAX_BUTTONS:
            return [
                Button(action_id=actions.encode(actions.ANSWER, assignment_id, str(i)), label=o)
                for i, o in enumerate(settings.options)
            ]
        return [
            Select(
                action_id=actions.encode(actions.ANSWER, assignment_id),
                placeholder="Choose labels" if settings.multiple else "Choose a label",
                options=[Option(label=o, value=str(i)) for i, o in enumerate(settings.options)],
                multiple=settings.multiple,
            )
        ]

    def answer_from_action(
        self, settings: ChoiceSettings, arg: str | None, values: list[str]
    ) -> dict[str, Any]:
        """Buttons and selects carry option indexes (short, safe in an action id)."""
        raw = [arg] if arg is not None else values
        labels = []
        for value in raw:
            try:
                labels.append(settings.options[int(value)])
            except (ValueError, IndexError):
                raise InvalidInput("That option is not one of this task's options.") from None
        return {"labels": labels}

    def describe(self, settings: ChoiceSettings, answer: dict[str, Any]) -> str:
        return ", ".join(answer.get("labels", []))
