"""Pairwise comparison: which of two responses is better (or a tie)."""

from __future__ import annotations

from typing import Any, Literal

from hdops import actions
from hdops.chat import Button, Control
from hdops.domain.tasks.base import AnswerBase, TaskSettings, TaskType
from hdops.errors import InvalidInput

_LABELS = {"a": "A is better", "b": "B is better", "tie": "Tie"}


class PairwiseSettings(TaskSettings):
    type: Literal["pairwise"] = "pairwise"
    allow_tie: bool = True


class PairwiseAnswer(AnswerBase):
    choice: Literal["a", "b", "tie"]


class Pairwise(TaskType[PairwiseSettings, PairwiseAnswer]):
    name = "pairwise"
    categorical = True
    settings_model = PairwiseSettings
    answer_model = PairwiseAnswer

    def check_answer(self, settings: PairwiseSettings, answer: PairwiseAnswer) -> list[str]:
        if answer.choice == "tie" and not settings.allow_tie:
            return ["answer.choice: this project does not allow ties"]
        return []

    def is_correct(
        self, settings: PairwiseSettings, answer: dict[str, Any], gold: dict[str, Any]
    ) -> bool | None:
        return bool(answer.get("choice") == gold.get("choice"))

    def label(self, settings: PairwiseSettings, answer: dict[str, Any]) -> str | None:
        value = answer.get("choice")
        return str(value) if value is not None else None

    def label_order(self, settings: PairwiseSettings) -> list[str]:
        return ["a", "b", "tie"] if settings.allow_tie else ["a", "b"]

    def controls(self, settings: PairwiseSettings, assignment_id: int) -> list[Control]:
        choices = ["a", "b", "tie"] if settings.allow_tie else ["a", "b"]
        return [
            Button(action_id=actions.encode(actions.ANSWER, assignment_id, c), label=_LABELS[c])
            for c in choices
        ]

    def answer_from_action(
        self, settings: PairwiseSettings, arg: str | None, values: list[str]
    ) -> dict[str, Any]:
        value = arg if arg is not None else (values[0] if values else None)
        if value is None:
            raise InvalidInput("Choose A, B or Tie.")
        return {"choice": value}

    def describe(self, settings: PairwiseSettings, answer: dict[str, Any]) -> str:
        return _LABELS.get(str(answer.get("choice")), str(answer.get("choice")))
