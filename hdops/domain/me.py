"""A contractor's own figures (`/hdops me`, SPEC §6b): their answers, gold record,
skips and questions per project, and what they have earned this week so far.

Plain values about one person: nothing in here can hold anyone else's work, so
what the chat shows them is theirs alone (`hdops.services.me` fills it from
queries filtered by them).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class OwnProject:
    """The contractor's record in one project: this week beside all time."""

    name: str
    title: str
    answers: int  # accepted, all time
    answers_week: int
    rejected: int  # all time
    gold_answered: int  # accepted gold answers, all time (what qualification reads)
    gold_correct: int
    standing: str  # qualified | screening | failed | - (no gold rule)
    skips: int
    skips_week: int
    questions: int
    questions_week: int
    # with the leave-one-out consensus of the others on the same items (0..1), or
    # None: nothing shared yet, or a text project
    agreement: float | None = None

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_correct / self.gold_answered if self.gold_answered else None


@dataclass(frozen=True)
class OwnEarnings:
    """This week so far in one currency, priced as the weekly statement prices it."""

    currency: str
    total: Decimal
    tasks: int
    seconds_checked_in: int  # closed check-ins only


@dataclass(frozen=True)
class OwnFigures:
    display_name: str
    week: str  # `2026-W10`, ops timezone
    projects: tuple[OwnProject, ...]
    earnings: tuple[OwnEarnings, ...]
