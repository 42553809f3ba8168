"""The demo's report: figures read back from the database, shown with rich.

Every figure comes from what the engine recorded (answers, assignments,
clarifications, instruction versions, the outbox), never from the simulation's
own counters, so the report shows that the engine did the work. The text form
is rendered at a fixed width so it is identical for the same seed anywhere.
"""

from __future__ import annotations

import io
import math
import statistics
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hdops.services.projects import get_project, project_spec
from hdops.store.db import Store
from hdops.store.orm import (
    Answer,
    Assignment,
    Clarification,
    FaqEntry,
    InstructionVersion,
    Item,
    OutboxMessage,
    Person,
    RoleGrant,
)

if TYPE_CHECKING:
    from demo.payouts import PayoutFigures
    from demo.shifts import ShiftFigures

REPORT_WIDTH = 100
TOP_SHARE = 0.2  # "the top 20% of contractors"


@dataclass(frozen=True)
class ContractorFigures:
    name: str
    display_name: str
    answers: int
    gold_answered: int
    gold_correct: int
    median_seconds: float | None
    questions: int
    skips: int
    status: str  # gold qualification: qualified | failed | screening | -

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_correct / self.gold_answered if self.gold_answered else None


@dataclass(frozen=True)
class DemoFigures:
    seed: int
    project: str
    title: str
    started: datetime
    ended: datetime
    items: int
    gold_items: int
    items_completed: int
    items_raised: int  # items whose target grew past the overlap after disagreement
    overlap: int
    qualification: str  # the project's rule, in words
    answers: int
    skips: int
    expired: int
    contractors: list[ContractorFigures]
    top_count: int
    top_answers: int
    asked: int
    answered: int
    resolved: int
    escalated: int
    first_answer_seconds: list[int]
    instruction_version: int
    faq: list[str]
    answers_by_version: list[tuple[int, int]]
    messages_sent: int
    messages_pending: int
    messages_failed: int
    payouts: PayoutFigures | None = None  # the Monday job after the day (demo.payouts)
    shifts: ShiftFigures | None = None  # the week of shifts (demo.shifts)

    @property
    def top_share(self) -> float:
        return self.top_answers / self.answers if self.answers else 0.0

    @property
    def median_first_answer(self) -> float | None:
        return statistics.median(self.first_answer_seconds) if self.first_answer_seconds else None


# --------------------------------------------------------------------------- reading


def _qualification(status_of: tuple[float, int] | None, answered: int, correct: int) -> str:
    if status_of is None:
        return "-"
    min_accuracy, min_answered = status_of
    if answered < min_answered:
        return "screening"
    return "qualified" if correct / answered >= min_accuracy else "failed"


def collect_figures(
    session: Session, project_name: str, seed: int, started: datetime, ended: datetime
) -> DemoFigures:
    project = get_project(session, project_name)
    pid = project.id
    spec = project_spec(project)
    qual = spec.qualification
    rule = (qual.min_gold_accuracy, qual.min_gold_answered) if qual is not None else None

    items, gold_items, completed, raised = session.execute(
        select(
            func.count(Item.id),
            func.count(Item.id).filter(Item.is_gold.is_(True)),
            func.count(Item.id).filter(Item.answer_count >= Item.target),
            func.count(Item.id).filter(Item.target > project.overlap),
        ).where(Item.project_id == pid)
    ).one()
    accepted = (Answer.project_id == pid) & (Answer.status == "accepted")
    answers = session.scalar(select(func.count(Answer.id)).where(accepted)) or 0
    by_status = dict(
        session.execute(
            select(Assignment.status, func.count(Assignment.id))
            .where(Assignment.project_id == pid)
            .group_by(Assignment.status)
        ).all()
    )

    contractors = session.execute(
        select(Person.id, Person.name, Person.display_name)
        .join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(RoleGrant.role == "contractor")
        .order_by(Person.id)
    ).all()
    seconds: dict[int, list[int]] = {}
    gold: dict[int, list[int]] = {}
    for person_id, spent, correct in session.execute(
        select(Answer.person_id, Answer.seconds_spent, Answer.gold_correct)
        .where(accepted)
        .order_by(Answer.id)
    ):
        seconds.setdefault(person_id, []).append(spent)
        if correct is not None:
            gold.setdefault(person_id, []).append(int(correct))
    questions = dict(
        session.execute(
            select(Clarification.person_id, func.count(Clarification.id))
            .where(Clarification.project_id == pid)
            .group_by(Clarification.person_id)
        ).all()
    )
    skips = dict(
        session.execute(
            select(Assignment.person_id, func.count(Assignment.id))
            .where(Assignment.project_id == pid, Assignment.status == "skipped")
            .group_by(Assignment.person_id)
        ).all()
    )
    rows = []
    for person_id, name, display_name in contractors:
        mine = seconds.get(person_id, [])
        golds = gold.get(person_id, [])
        rows.append(
            ContractorFigures(
                name=name,
                display_name=display_name,
                answers=len(mine),
                gold_answered=len(golds),
                gold_correct=sum(golds),
                median_seconds=statistics.median(mine) if mine else None,
                questions=questions.get(person_id, 0),
                skips=skips.get(person_id, 0),
                status=_qualification(rule, len(golds), sum(golds)),
            )
        )
    rows.sort(key=lambda r: (-r.answers, r.name))
    top_count = max(1, math.ceil(TOP_SHARE * len(rows))) if rows else 0
    top_answers = sum(r.answers for r in rows[:top_count])

    clars = session.execute(
        select(
            Clarification.opened_at,
            Clarification.first_answered_at,
            Clarification.status,
            Clarification.escalations,
        )
        .where(Clarification.project_id == pid)
        .order_by(Clarification.id)
    ).all()
    first_answer = [
        int((first - opened).total_seconds()) for opened, first, _, _ in clars if first is not None
    ]

    versions = session.execute(
        select(InstructionVersion.id, InstructionVersion.version)
        .where(InstructionVersion.project_id == pid)
        .order_by(InstructionVersion.version)
    ).all()
    current_id, current = versions[-1]
    faq = list(
        session.scalars(
            select(FaqEntry.question)
            .where(FaqEntry.instruction_version_id == current_id)
            .order_by(FaqEntry.position)
        )
    )
    per_version = dict(
        session.execute(
            select(Answer.instruction_version_id, func.count(Answer.id))
            .where(accepted)
            .group_by(Answer.instruction_version_id)
        ).all()
    )
    outbox = dict(
        session.execute(
            select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(
                OutboxMessage.status
            )
        ).all()
    )
    return DemoFigures(
        seed=seed,
        project=project.name,
        title=project.title,
        started=started,
        ended=ended,
        items=items,
        gold_items=gold_items,
        items_completed=completed,
        items_raised=raised,
        overlap=project.overlap,
        qualification=(
            f"at least {qual.min_gold_accuracy:.0%} correct once {qual.min_gold_answered} "
            "gold items are answered"
            if qual is not None
            else "none"
        ),
        answers=answers,
        skips=by_status.get("skipped", 0),
        expired=by_status.get("expired", 0),
        contractors=rows,
        top_count=top_count,
        top_answers=top_answers,
        asked=len(clars),
        answered=sum(1 for c in clars if c[1] is not None),
        resolved=sum(1 for c in clars if c[2] == "resolved"),
        escalated=sum(1 for c in clars if c[3] > 0),
        first_answer_seconds=first_answer,
        instruction_version=current,
        faq=faq,
        answers_by_version=[(v, per_version.get(vid, 0)) for vid, v in versions],
        messages_sent=outbox.get("sent", 0),
        messages_pending=outbox.get("pending", 0),
        messages_failed=outbox.get("failed", 0),
    )


def write_exports(
    store: Store, project: str, out_dir: Path, jsonl_name: str, csv_name: str
) -> list[Path]:
    """The project's answers as JSONL and CSV, through the export service."""
    from hdops.services.export import export_answers

    written = []
    for fmt, name in (("jsonl", jsonl_name), ("csv", csv_name)):
        result = export_answers(store, project, fmt, out_dir / name)  # type: ignore[arg-type]
        written.append(result.path)
    return written


# --------------------------------------------------------------------------- showing


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds / 60:.1f} min"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _duration(started: datetime, ended: datetime) -> str:
    minutes = int((ended - started).total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _facts(rows: list[tuple[str, str]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for label, value in rows:
        grid.add_row(label, value)
    return grid


def _heading(text: str) -> Text:
    return Text(f"\n{text}", style="bold underline")


def renderables(f: DemoFigures) -> list[RenderableType]:
    day = f.started.strftime("%a %Y-%m-%d")
    title = Text(f"hdops demo — seed {f.seed}", style="bold")
    intro = Text(
        f"{f.title} ({f.project}) · simulated {day} {f.started:%H:%M}–{f.ended:%H:%M} UTC "
        f"({_duration(f.started, f.ended)}) · {len(f.contractors)} contractors"
    )

    progress = _facts(
        [
            (
                "Items completed",
                f"{f.items_completed} / {f.items}  "
                f"({f.gold_items} gold; {f.items_raised} raised above overlap "
                f"{f.overlap} after disagreement)",
            ),
            ("Answers", f"{f.answers} accepted · {f.skips} skipped · {f.expired} leases expired"),
            (
                "Chat messages",
                f"{f.messages_sent} delivered · {f.messages_pending} pending · "
                f"{f.messages_failed} failed",
            ),
        ]
    )

    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        header_style="bold",
        pad_edge=False,
        collapse_padding=True,
        padding=(0, 1),
    )
    table.add_column("Contractor", no_wrap=True)
    table.add_column("Answers", justify="right")
    table.add_column("Share", justify="right")
    table.add_column("Gold", justify="right")
    table.add_column("Gold acc", justify="right")
    table.add_column("Median s", justify="right")
    table.add_column("Asked", justify="right")
    table.add_column("Skips", justify="right")
    table.add_column("Status", no_wrap=True)
    for c in f.contractors:
        table.add_row(
            c.display_name,
            str(c.answers),
            _percent(c.answers / f.answers if f.answers else None),
            str(c.gold_answered),
            _percent(c.gold_accuracy),
            "-" if c.median_seconds is None else f"{c.median_seconds:.0f}",
            str(c.questions),
            str(c.skips),
            c.status,
        )
    gold_answered = sum(c.gold_answered for c in f.contractors)
    gold_correct = sum(c.gold_correct for c in f.contractors)
    table.add_section()
    table.add_row(
        "Total",
        str(sum(c.answers for c in f.contractors)),
        "100%" if f.answers else "-",
        str(gold_answered),
        _percent(gold_correct / gold_answered if gold_answered else None),
        "",
        str(sum(c.questions for c in f.contractors)),
        str(sum(c.skips for c in f.contractors)),
        "",
        style="bold",
    )
    legend = Text(
        "Gold: gold items answered; Gold acc: share of them correct; Median s: median seconds "
        "per answer; Asked: questions; Status: gold qualification "
        f"({f.qualification}).",
        style="dim",
    )
    share = Text(
        f"Share of answers from the top 20% of contractors ({f.top_count} of "
        f"{len(f.contractors)}): {f.top_share:.1%} ({f.top_answers} of {f.answers})"
    )

    clarifications = _facts(
        [
            ("Asked", str(f.asked)),
            (
                "Answered",
                f"{f.answered} (resolved {f.resolved}; {f.escalated} escalated after waiting)",
            ),
            (
                "Time to first answer",
                f"median {_minutes(f.median_first_answer)} · longest "
                f"{_minutes(max(f.first_answer_seconds, default=None))}",
            ),
        ]
    )

    by_version = " · ".join(f"v{v}: {n}" for v, n in f.answers_by_version)
    instruction_rows = [
        (
            "Current version",
            f"v{f.instruction_version} ({len(f.faq)} FAQ "
            f"{'entry' if len(f.faq) == 1 else 'entries'} added from questions)",
        ),
        ("Answers by version", by_version),
    ]
    instruction_rows += [(f"FAQ {n}", q) for n, q in enumerate(f.faq, start=1)]

    return [
        title,
        intro,
        _heading("Progress"),
        progress,
        _heading("Contractors"),
        table,
        legend,
        Text(""),
        share,
        _heading("Clarifications"),
        clarifications,
        _heading("Instructions"),
        _facts(instruction_rows),
        *_shifts(f),
        *_payouts(f),
    ]


def _shifts(f: DemoFigures) -> list[RenderableType]:
    from demo import shifts

    return shifts.renderables(f.shifts) if f.shifts is not None else []


def _payouts(f: DemoFigures) -> list[RenderableType]:
    from demo import payouts

    return payouts.renderables(f.payouts) if f.payouts is not None else []


def report_text(figures: DemoFigures) -> str:
    """The report as plain text at a fixed width (identical for the same seed)."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=REPORT_WIDTH,
        no_color=True,
        force_terminal=False,
        highlight=False,
        emoji=False,
    )
    console.print(Group(*renderables(figures)))
    return buffer.getvalue()


def print_report(figures: DemoFigures, console: Console) -> None:
    console.print(Group(*renderables(figures)))
