"""Free-text demonstrations, typed into a form."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from hdops.chat import FormField
from hdops.domain.tasks.base import AnswerBase, TaskSettings, TaskType

MAX_TEXT_CHARS = 4000  # Discord text inputs hold 4000 characters


class TextSettings(TaskSettings):
    type: Literal["text"] = "text"
    min_chars: int = Field(1, ge=0)
    max_chars: int = Field(MAX_TEXT_CHARS, ge=1, le=MAX_TEXT_CHARS)

    @model_validator(mode="after")
    def _ordered(self) -> TextSettings:
        if self.max_chars < self.min_chars:
            raise ValueError("max_chars must not be less than min_chars")
        return self


class TextAnswer(AnswerBase):
    text: str


class Text(TaskType[TextSettings, TextAnswer]):
    name = "text"
    settings_model = TextSettings
    answer_model = TextAnswer

    def check_answer(self, settings: TextSettings, answer: TextAnswer) -> list[str]:
        n = len(answer.text.strip())
        if n < settings.min_chars:
            return [f"answer.text: at least {settings.min_chars} characters (got {n})"]
        if len(answer.text) > settings.max_chars:
            return [f"answer.text: at most {settings.max_chars} characters"]
        return []

    def is_correct(
        self, settings: TextSettings, answer: dict[str, Any], gold: dict[str, Any]
    ) -> bool | None:
        return None  # free text has no automatic gold comparison

    def answer_form_fields(self, settings: TextSettings) -> list[FormField]:
        return [
            FormField(
                name="text",
                label="Your answer",
                kind="long",
                min_length=settings.min_chars,
                max_length=settings.max_chars,
            )
        ]

    def answer_from_form(self, settings: TextSettings, fields: dict[str, str]) -> dict[str, Any]:
        return {"text": fields.get("text", "")}

    def describe(self, settings: TextSettings, answer: dict[str, Any]) -> str:
        text = str(answer.get("text", ""))
        return text if len(text) <= 200 else text[:199] + "…"
