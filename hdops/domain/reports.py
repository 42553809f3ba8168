"""Report figures: what a project, its contractors, the outbox and a week of shifts
amount to, as plain frozen values, with the few rules that need no database.

`hdops.services.reports` fills them from the store; whoever shows them (the demo's
rich tables, later `/hdops project status` and the quality report) only renders.
They are built to grow: quality measures per project (agreement, the spread) belong on
`ProjectFigures`, per rater (reliability, consensus agreement) on
`ContractorFigures`, so every report reads one set of figures.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from hdops.domain.distribution import Distribution, Spread
from hdops.domain.projects import Qualification
from hdops.domain.qualification import gold_standing
from hdops.domain.shifts import CoverageReport

# A standing (hdops.domain.qualification) as a report says it.
STANDING_WORDS = {"ok": "qualified", "screening": "screening", "failed": "failed"}
NO_RULE = "-"


def median(values: Sequence[float]) -> float | None:
    """The median, or None for nothing (a report shows '-' rather than 0)."""
    return statistics.median(values) if values else None


def qualification_status(
    qual: Qualification | None, answered: int, correct: int, recent: Sequence[bool] = ()
) -> str:
    """The report's status column: the dispatcher's standing in words ('-': no rule);
    `recent` are the latest gold outcomes, newest first."""
    if qual is None:
        return NO_RULE
    return STANDING_WORDS[gold_standing(qual, answered, correct, recent).state]


@dataclass(frozen=True)
class ContractorFigures:
    """One contractor's work in one project."""

    name: str
    display_name: str
    answers: int  # accepted
    gold_answered: int
    gold_correct: int
    median_seconds: float | None  # per accepted answer
    questions: int  # clarifications asked
    skips: int
    status: str  # gold qualification: qualified | screening | failed | - (no rule)

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_correct / self.gold_answered if self.gold_answered else None


@dataclass(frozen=True)
class ClarificationFigures:
    """A project's questions: how many, and how long people waited for a first answer."""

    asked: int
    answered: int  # had a first answer
    resolved: int
    escalated: int  # escalated at least once after waiting
    first_answer_seconds: tuple[int, ...]  # of each answered question, oldest first

    @property
    def median_first_answer(self) -> float | None:
        return median(self.first_answer_seconds)

    @property
    def longest_first_answer(self) -> int | None:
        return max(self.first_answer_seconds, default=None)


@dataclass(frozen=True)
class InstructionFigures:
    """A project's instructions: the current version, its FAQ, answers per version."""

    current_version: int
    faq: tuple[str, ...]  # questions of the current version's FAQ, in order
    answers_by_version: tuple[tuple[int, int], ...]  # (version, accepted answers), every version


@dataclass(frozen=True)
class ProjectFigures:
    """One project: items, answers, contractors, clarifications and instructions."""

    name: str
    title: str
    status: str
    overlap: int
    qualification: Qualification | None
    items: int
    gold_items: int
    items_completed: int  # have all the answers they need
    items_raised: int  # target grew past the overlap after disagreement
    answers: int  # accepted
    skips: int
    expired: int  # leases that ran out
    # Every contractor (whoever holds the role, or has worked here), most answers first.
    contractors: tuple[ContractorFigures, ...]
    clarifications: ClarificationFigures
    instructions: InstructionFigures
    # The spread of work (hdops.services.distribution): everyone offered a task of
    # the project, all time, and per ISO week (ops timezone) from its first work on.
    distribution: Distribution
    weekly: tuple[Distribution, ...] = ()

    @property
    def spread(self) -> Spread:
        return self.distribution.spread

    @property
    def top_count(self) -> int:
        return self.spread.top_count

    @property
    def top_answers(self) -> int:
        """Answers of the `top_count` contractors with the most answers."""
        return self.spread.top_answers

    @property
    def top_share(self) -> float:
        return self.spread.top_share

    @property
    def gold_answered(self) -> int:
        return sum(c.gold_answered for c in self.contractors)

    @property
    def gold_correct(self) -> int:
        return sum(c.gold_correct for c in self.contractors)

    @property
    def gold_accuracy(self) -> float | None:
        answered = self.gold_answered
        return self.gold_correct / answered if answered else None


@dataclass(frozen=True)
class DeliveryFigures:
    """The outbox (every platform, every project): messages by delivery status."""

    sent: int
    pending: int
    failed: int


@dataclass(frozen=True)
class ShiftWeekFigures:
    """One ISO week of shifts (ops timezone): what was scheduled and what happened."""

    coverage: CoverageReport  # scheduled contractor-hours per day
    shifts: int  # not cancelled
    reminders_day_before: int
    reminders_15: int
    started: int  # shift starts the scheduler acted on
    no_shows: tuple[str, ...]  # display names, one per missed shift
    check_ins: int
    minutes_checked_in: int  # of closed check-ins (an open one has no length yet)

    @property
    def week(self) -> str:
        return self.coverage.week


@dataclass(frozen=True)
class OpenWork:
    """What is still to do anywhere: unanswered items, open questions, held tasks."""

    unfinished_items: int
    open_questions: int
    held_tasks: int

    @property
    def done(self) -> bool:
        return not (self.unfinished_items or self.open_questions or self.held_tasks)


def eta_text(needed: int, answers_per_hour: float) -> str:
    """When a project finishes at the current pace, in words for a status line."""
    if needed <= 0:
        return "done"
    if answers_per_hour <= 0:
        return "no answers in the last 24 h: no estimate"
    hours = needed / answers_per_hour
    if hours < 1:
        return f"under an hour ({needed} answers to go)"
    if hours < 48:
        return f"about {hours:.0f} h at {answers_per_hour:.1f} answers/h ({needed} to go)"
    return f"about {hours / 24:.0f} days at {answers_per_hour:.1f} answers/h ({needed} to go)"
