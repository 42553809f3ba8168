"""The quality report as plain frozen values (SPEC §6b): agreement per project,
batch and instruction version; per contractor reliability, per project and overall.

`hdops.services.quality` fills these from the store; whatever shows them (the
project status in chat, the HTML report, the weekly digest) only renders them, so
every place reads the same figures computed one way. Everything optional is None
when there is nothing to compute it from (no gold answered, no shared item, a text
project), which a renderer shows as '-', never as 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from hdops.domain.quality.analysis import AlphaFigures
from hdops.domain.quality.calibration import Offset
from hdops.domain.quality.intervals import Interval, wilson_interval


@dataclass(frozen=True)
class GroupAgreement:
    """Alpha over the answers of one batch or one instruction version."""

    key: str  # the batch name ("" for items imported without a batch) or the version number
    alpha: AlphaFigures


@dataclass(frozen=True)
class GoldRecord:
    """Accepted answers on gold items, how many were right, and a 95 % Wilson interval."""

    answered: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answered if self.answered else None

    @property
    def interval(self) -> Interval | None:
        return wilson_interval(self.correct, self.answered)

    def __add__(self, other: GoldRecord) -> GoldRecord:
        return GoldRecord(self.answered + other.answered, self.correct + other.correct)


@dataclass(frozen=True)
class RaterQuality:
    """One contractor in one project."""

    person_id: int
    name: str
    display_name: str
    answers: int  # accepted
    gold: GoldRecord
    agreement: float | None  # with the leave-one-out consensus, 0..1
    agreement_answers: int  # answers it rests on (on items others answered too)
    model_accuracy: float | None  # Dawid–Skene's estimate of the share of right answers
    confusion: tuple[tuple[float, ...], ...] | None  # Dawid–Skene, rows true, columns given
    offset: Offset | None  # ratings: leniency (+) or severity (−) with an interval
    median_seconds: float | None
    skips: int
    questions: int
    rejections: int


@dataclass(frozen=True)
class ProjectQuality:
    """A project's agreement and its contractors' reliability."""

    name: str
    title: str
    task_type: str
    # dawid-skene | majority-vote (pairwise/choice), offsets (rating), none (text)
    method: str
    classes: tuple[str, ...]  # label order of the confusion matrices
    answers: int  # accepted
    items_answered: int
    agreement: AlphaFigures  # the whole project
    by_batch: tuple[GroupAgreement, ...]
    by_version: tuple[GroupAgreement, ...]
    raters: tuple[RaterQuality, ...]  # most answers first
    residual_sd: float | None = None  # ratings: noise left after the offsets
    anchored: bool = False  # ratings: gold anchored the offsets

    def rater(self, name: str) -> RaterQuality | None:
        return next((r for r in self.raters if r.name == name), None)


@dataclass(frozen=True)
class RaterOverall:
    """One contractor across the projects of a report. Agreement and the model's
    accuracy are averages weighted by the answers each project's figure rests on;
    offsets are per project (each project has its own scale) and so absent here."""

    person_id: int
    name: str
    display_name: str
    projects: int
    answers: int
    gold: GoldRecord
    agreement: float | None
    agreement_answers: int
    model_accuracy: float | None
    median_seconds: float | None
    skips: int
    questions: int
    rejections: int


@dataclass(frozen=True)
class QualityReport:
    projects: tuple[ProjectQuality, ...]
    overall: tuple[RaterOverall, ...]  # most answers first

    def project(self, name: str) -> ProjectQuality | None:
        return next((p for p in self.projects if p.name == name), None)

    def contractor(self, name: str) -> RaterOverall | None:
        return next((r for r in self.overall if r.name == name), None)
