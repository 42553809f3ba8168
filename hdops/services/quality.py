"""Quality figures read from the store (SPEC §6b, issue 14): agreement, aggregation,
per-rater reliability and calibrated ratings.

`analyse_project` loads a project's accepted answers once and runs the pure
mathematics of `hdops.domain.quality` on them: Dawid–Skene for pairwise and choice
answers, the rater-offset model for ratings, nothing for text. The aggregate
export (`hdops.services.export_aggregate`) and the quality report
(`project_quality`, `quality_report`) both start from it, so an item's label in the
export and a contractor's estimate in a report come from the same fit.

Only answers whose status is `accepted` count (`hdops.store.quality`): a rejected
answer, or one held for review, is in no figure but the contractor's rejections.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hdops.domain.quality.agreement import (
    Agreements,
    Level,
    interval_agreement,
    nominal_agreement,
)
from hdops.domain.quality.analysis import (
    AlphaFigures,
    Analysis,
    alpha_figures,
    analyse_labels,
    analyse_ratings,
    label_classes,
)
from hdops.domain.quality.report import (
    GoldRecord,
    GroupAgreement,
    ProjectQuality,
    QualityReport,
    RaterOverall,
    RaterQuality,
)
from hdops.domain.reports import median
from hdops.domain.tasks.base import TaskSettings
from hdops.domain.tasks.rating import RatingSettings
from hdops.domain.tasks.registry import AnyTaskType, get_task_type
from hdops.services.projects import get_project, list_projects, task_settings
from hdops.store import quality as q
from hdops.store import reports as report_q
from hdops.store.orm import Project
from hdops.store.quality import AnswerFact

Vote = tuple[int, int, Hashable]  # (item id, person id, label or rating)


@dataclass(frozen=True)
class ProjectAnalysis:
    """A project's accepted answers, analysed: `analysis` is None for text answers,
    which have no label to agree on or aggregate."""

    project: Project
    task: AnyTaskType
    settings: TaskSettings
    items: list[q.ItemFact]
    answers: list[q.AnswerFact]
    votes: list[Vote]
    voted: list[q.AnswerFact]  # the answer behind each vote, in the same order
    levels: tuple[Level, ...]
    domain: tuple[Hashable, ...]  # every value a vote can take, in order
    analysis: Analysis[int, int] | None

    @property
    def is_rating(self) -> bool:
        return isinstance(self.settings, RatingSettings)


def _rating(answer: dict[str, Any] | None) -> int | None:
    try:
        return int(answer["rating"]) if answer is not None else None
    except (KeyError, TypeError, ValueError):
        return None


def _rated(answers: Sequence[AnswerFact]) -> list[tuple[AnswerFact, int]]:
    """Rating answers with their rating (answers without one are left out)."""
    return [(a, r) for a in answers if (r := _rating(a.answer)) is not None]


def _labelled(
    task: AnyTaskType, settings: TaskSettings, answers: Sequence[AnswerFact]
) -> list[tuple[AnswerFact, str]]:
    """Categorical answers with their label (answers without one are left out)."""
    return [(a, label) for a in answers if (label := task.label(settings, a.answer))]


def analyse_project(session: Session, project_name: str) -> ProjectAnalysis:
    """Load a project's accepted answers and analyse them (NotFound: no project)."""
    project = get_project(session, project_name)
    task = get_task_type(project.task_type)
    settings = task_settings(project)
    items = q.items(session, project.id)
    answers = q.accepted_answers(session, project.id)
    gold_items = [item for item in items if item.gold is not None]

    if isinstance(settings, RatingSettings):
        low, high = settings.scale.min, settings.scale.max
        rated = _rated(answers)
        ratings = [(a.item_id, a.person_id, r) for a, r in rated]
        gold_ratings = {
            i.item_id: float(r) for i in gold_items if (r := _rating(i.gold)) is not None
        }
        return ProjectAnalysis(
            project, task, settings, items, answers,
            votes=[*ratings],
            voted=[a for a, _ in rated],
            levels=("interval", "ordinal"),
            # the scale, and any rating given under an earlier, wider scale
            domain=tuple(sorted({*range(low, high + 1), *(r for _, r in rated)})),
            analysis=analyse_ratings(ratings, low, high, gold_ratings),
        )  # fmt: skip

    if not task.categorical:  # text: nothing to agree on or aggregate
        return ProjectAnalysis(
            project, task, settings, items, answers, [], [], (), (), analysis=None
        )
    declared = task.label_order(settings)
    labelled = _labelled(task, settings, answers)
    labels = [(a.item_id, a.person_id, label) for a, label in labelled]
    gold_labels = {
        i.item_id: label for i in gold_items if (label := task.label(settings, i.gold or {}))
    }
    return ProjectAnalysis(
        project, task, settings, items, answers,
        votes=[*labels],
        voted=[a for a, _ in labelled],
        levels=("nominal",),
        domain=label_classes(declared, [label for _, _, label in labels]),
        analysis=analyse_labels(labels, declared, gold_labels),
    )  # fmt: skip


def rater_agreement(session: Session, project_name: str, person_id: int) -> float | None:
    """One contractor's agreement with the leave-one-out consensus in a project: the
    figure `project_quality` gives them, from the answers on the items they answered
    only (each item's consensus uses that item's answers alone), without aggregating
    the whole project — what `/hdops me` needs on every call."""
    project = get_project(session, project_name)
    task = get_task_type(project.task_type)
    settings = task_settings(project)
    answers = q.accepted_answers(session, project.id, on_items_of=person_id)
    agreements: Agreements[int, int] | None = None
    if isinstance(settings, RatingSettings):
        span = float(settings.scale.max - settings.scale.min)
        ratings = [(a.item_id, a.person_id, float(r)) for a, r in _rated(answers)]
        agreements = interval_agreement(ratings, span) if ratings else None
    elif task.categorical:
        labels = [(a.item_id, a.person_id, lab) for a, lab in _labelled(task, settings, answers)]
        agreements = nominal_agreement(labels) if labels else None
    mine = agreements.raters.get(person_id) if agreements is not None else None
    return mine.value if mine is not None else None


# --------------------------------------------------------------------------- agreement


def _alpha(loaded: ProjectAnalysis, votes: Sequence[Vote]) -> AlphaFigures:
    if not loaded.levels:
        return AlphaFigures(items=0, answers=0)
    return alpha_figures(votes, loaded.levels, loaded.domain)


def _grouped(
    loaded: ProjectAnalysis, key_of: Iterable[tuple[Vote, str]]
) -> tuple[GroupAgreement, ...]:
    groups: dict[str, list[Vote]] = {}
    for vote, key in key_of:
        groups.setdefault(key, []).append(vote)
    return tuple(GroupAgreement(key, _alpha(loaded, votes)) for key, votes in groups.items())


def _by_batch(loaded: ProjectAnalysis) -> tuple[GroupAgreement, ...]:
    batch_of = {i.item_id: i.batch or "" for i in loaded.items}
    ordered = sorted(loaded.votes, key=lambda v: batch_of[v[0]])
    return _grouped(loaded, ((v, batch_of[v[0]]) for v in ordered))


def _by_version(loaded: ProjectAnalysis) -> tuple[GroupAgreement, ...]:
    """Answers grouped by the instruction version they were given under."""
    pairs = sorted(
        zip(loaded.votes, loaded.voted, strict=True), key=lambda p: p[1].instruction_version
    )
    return _grouped(loaded, ((v, str(a.instruction_version)) for v, a in pairs))


# --------------------------------------------------------------------------- per rater


def _gold_records(loaded: ProjectAnalysis) -> dict[int, GoldRecord]:
    gold_of = {i.item_id: i.gold for i in loaded.items if i.gold is not None}
    records: dict[int, GoldRecord] = {}
    for a in loaded.answers:
        gold = gold_of.get(a.item_id)
        if gold is None:
            continue
        correct = a.gold_correct
        if correct is None:  # not judged when answered: judge against the gold now
            correct = loaded.task.is_correct(loaded.settings, a.answer, gold)
        if correct is None:
            continue  # this task type cannot tell
        previous = records.get(a.person_id, GoldRecord(0, 0))
        records[a.person_id] = previous + GoldRecord(1, int(correct))
    return records


@dataclass(frozen=True)
class _RaterWork:
    """What one project says about one person, with the raw seconds the overall
    median needs."""

    figures: RaterQuality
    seconds: list[int]


def _raters(session: Session, loaded: ProjectAnalysis) -> list[_RaterWork]:
    pid = loaded.project.id
    gold = _gold_records(loaded)
    skips = report_q.skips_by_person(session, pid)
    questions = report_q.questions_by_person(session, pid)
    rejections = q.rejections_by_person(session, pid)
    seconds: dict[int, list[int]] = {}
    for a in loaded.answers:
        seconds.setdefault(a.person_id, []).append(a.seconds_spent)
    results = loaded.analysis.raters if loaded.analysis is not None else {}
    work = []
    for person_id, name, display_name in q.people_involved(session, pid):
        result = results.get(person_id)
        consensus = result.agreement if result is not None else None
        mine = seconds.get(person_id, [])
        figures = RaterQuality(
            person_id=person_id,
            name=name,
            display_name=display_name,
            answers=len(mine),
            gold=gold.get(person_id, GoldRecord(0, 0)),
            agreement=consensus.value if consensus is not None else None,
            agreement_answers=consensus.compared if consensus is not None else 0,
            model_accuracy=result.accuracy if result is not None else None,
            confusion=result.confusion if result is not None else None,
            offset=result.offset if result is not None else None,
            median_seconds=median(mine),
            skips=skips.get(person_id, 0),
            questions=questions.get(person_id, 0),
            rejections=rejections.get(person_id, 0),
        )
        work.append(_RaterWork(figures, mine))
    work.sort(key=lambda w: (-w.figures.answers, w.figures.name))
    return work


# --------------------------------------------------------------------------- reports


def _project_quality(
    session: Session, project_name: str
) -> tuple[ProjectQuality, list[_RaterWork]]:
    loaded = analyse_project(session, project_name)
    work = _raters(session, loaded)
    analysis = loaded.analysis
    figures = ProjectQuality(
        name=loaded.project.name,
        title=loaded.project.title,
        task_type=loaded.project.task_type,
        method=analysis.method if analysis is not None else "none",
        classes=analysis.classes if analysis is not None else (),
        answers=len(loaded.answers),
        items_answered=len({a.item_id for a in loaded.answers}),
        agreement=_alpha(loaded, loaded.votes),
        by_batch=_by_batch(loaded),
        by_version=_by_version(loaded),
        raters=tuple(w.figures for w in work),
        residual_sd=analysis.residual_sd if analysis is not None else None,
        anchored=analysis.anchored if analysis is not None else False,
    )
    return figures, work


def project_quality(session: Session, project_name: str) -> ProjectQuality:
    """One project's quality figures (NotFound if there is no such project)."""
    return _project_quality(session, project_name)[0]


def _weighted(pairs: Iterable[tuple[float | None, int]]) -> tuple[float | None, int]:
    """The mean of values weighted by counts (None values and zero counts skipped)."""
    total = weight = 0.0
    for value, count in pairs:
        if value is not None and count > 0:
            total += value * count
            weight += count
    return (total / weight if weight else None), int(weight)


def _overall(work: Sequence[_RaterWork]) -> RaterOverall:
    first = work[0].figures
    gold = GoldRecord(0, 0)
    for w in work:
        gold = gold + w.figures.gold
    agreement, compared = _weighted(
        (w.figures.agreement, w.figures.agreement_answers) for w in work
    )
    accuracy, _ = _weighted((w.figures.model_accuracy, w.figures.answers) for w in work)
    return RaterOverall(
        person_id=first.person_id,
        name=first.name,
        display_name=first.display_name,
        projects=len(work),
        answers=sum(w.figures.answers for w in work),
        gold=gold,
        agreement=agreement,
        agreement_answers=compared,
        model_accuracy=accuracy,
        median_seconds=median([s for w in work for s in w.seconds]),
        skips=sum(w.figures.skips for w in work),
        questions=sum(w.figures.questions for w in work),
        rejections=sum(w.figures.rejections for w in work),
    )


def quality_report(session: Session, project_names: Sequence[str] | None = None) -> QualityReport:
    """The named projects' quality (every project when None), and each contractor's
    figures across them."""
    names = (
        list(project_names)
        if project_names is not None
        else [p.name for p in list_projects(session)]
    )
    projects = []
    by_person: dict[int, list[_RaterWork]] = {}
    for name in names:
        figures, work = _project_quality(session, name)
        projects.append(figures)
        for w in work:
            by_person.setdefault(w.figures.person_id, []).append(w)
    overall = sorted(
        (_overall(work) for work in by_person.values()), key=lambda r: (-r.answers, r.name)
    )
    return QualityReport(tuple(projects), tuple(overall))
