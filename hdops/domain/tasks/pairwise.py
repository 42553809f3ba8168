"""Pairwise comparison: which of two responses is better (or a tie)."""

from __future__ import annotations

from typing import Any, Literal

from hdops.domain.tasks.base import AnswerBase, TaskSettings, TaskType


class PairwiseSettings(TaskSettings):
    type: Literal["pairwise"] = "pairwise"
    allow_tie: bool = True


class PairwiseAnswer(AnswerBase):
    choice: Literal["a", "b", "tie"]


class Pairwise(TaskType[PairwiseSettings, PairwiseAnswer]):
    name = "pairwise"
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
