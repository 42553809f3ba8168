"""Clarification questions as listed to researchers and ops (SPEC §6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ClarificationSummary:
    """One question in `hdops clarifications` and `/hdops clarifications`."""

    id: int
    project: str
    asked_by: str
    status: str  # open | resolved
    question: str
    opened_at: datetime
    first_answered_at: datetime | None

    @property
    def time_to_first_answer(self) -> timedelta | None:
        if self.first_answered_at is None:
            return None
        return self.first_answered_at - self.opened_at
