"""The demo's report: the product's report figures, shown with rich.

Every figure comes from what the engine recorded (answers, assignments,
clarifications, instruction versions, the outbox), read through
`hdops.services.reports`, never from the simulation's own counters, so the
report shows that the engine did the work. This module only renders; the text
form is rendered at a fixed width so it is identical for the same seed anywhere.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from demo.tables import report_table
from hdops.domain.distribution import spread_words
from hdops.domain.projects import Qualification
from hdops.domain.quality.report import ProjectQuality
from hdops.domain.reports import DeliveryFigures, ProjectFigures
from hdops.store.db import Store

if TYPE_CHECKING:
    from demo.payouts import PayoutFigures
    from demo.shifts import ShiftFigures

REPORT_WIDTH = 100


@dataclass(frozen=True)
class DemoFigures:
    """What the report shows: the product's figures after the simulated day."""

    seed: int
    started: datetime
    ended: datetime
    project: ProjectFigures
    delivery: DeliveryFigures
    payouts: PayoutFigures | None = None  # the Monday job after the day (demo.payouts)
    shifts: ShiftFigures | None = None  # the week of shifts (demo.shifts)
    quality: ProjectQuality | None = None  # agreement and reliability (hdops.services.quality)


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


def qualification_words(qual: Qualification | None) -> str:
    """The project's gold rule, as the legend says it."""
    if qual is None:
        return "none"
    return (
        f"at least {qual.min_gold_accuracy:.0%} correct once {qual.min_gold_answered} "
        "gold items are answered"
    )


def renderables(f: DemoFigures) -> list[RenderableType]:
    p = f.project
    day = f.started.strftime("%a %Y-%m-%d")
    title = Text(f"hdops demo — seed {f.seed}", style="bold")
    intro = Text(
        f"{p.title} ({p.name}) · simulated {day} {f.started:%H:%M}–{f.ended:%H:%M} UTC "
        f"({_duration(f.started, f.ended)}) · {len(p.contractors)} contractors"
    )

    progress = _facts(
        [
            (
                "Items completed",
                f"{p.items_completed} / {p.items}  "
                f"({p.gold_items} gold; {p.items_raised} raised above overlap "
                f"{p.overlap} after disagreement)",
            ),
            ("Answers", f"{p.answers} accepted · {p.skips} skipped · {p.expired} leases expired"),
            (
                "Chat messages",
                f"{f.delivery.sent} delivered · {f.delivery.pending} pending · "
                f"{f.delivery.failed} failed",
            ),
        ]
    )

    table = report_table()
    table.add_column("Contractor", no_wrap=True)
    table.add_column("Answers", justify="right")
    table.add_column("Share", justify="right")
    table.add_column("Gold", justify="right")
    table.add_column("Gold acc", justify="right")
    table.add_column("Median s", justify="right")
    table.add_column("Asked", justify="right")
    table.add_column("Skips", justify="right")
    table.add_column("Status", no_wrap=True)
    for c in p.contractors:
        table.add_row(
            c.display_name,
            str(c.answers),
            _percent(c.answers / p.answers if p.answers else None),
            str(c.gold_answered),
            _percent(c.gold_accuracy),
            "-" if c.median_seconds is None else f"{c.median_seconds:.0f}",
            str(c.questions),
            str(c.skips),
            c.status,
        )
    table.add_section()
    table.add_row(
        "Total",
        str(sum(c.answers for c in p.contractors)),
        "100%" if p.answers else "-",
        str(p.gold_answered),
        _percent(p.gold_accuracy),
        "",
        str(sum(c.questions for c in p.contractors)),
        str(sum(c.skips for c in p.contractors)),
        "",
        style="bold",
    )
    legend = Text(
        "Gold: gold items answered; Gold acc: share of them correct; Median s: median seconds "
        "per answer; Asked: questions; Status: gold qualification "
        f"({qualification_words(p.qualification)}).",
        style="dim",
    )
    spread = _spread(p)

    clar = p.clarifications
    clarifications = _facts(
        [
            ("Asked", str(clar.asked)),
            (
                "Answered",
                f"{clar.answered} (resolved {clar.resolved}; {clar.escalated} escalated "
                "after waiting)",
            ),
            (
                "Time to first answer",
                f"median {_minutes(clar.median_first_answer)} · longest "
                f"{_minutes(clar.longest_first_answer)}",
            ),
        ]
    )

    i = p.instructions
    by_version = " · ".join(f"v{v}: {n}" for v, n in i.answers_by_version)
    instruction_rows = [
        (
            "Current version",
            f"v{i.current_version} ({len(i.faq)} FAQ "
            f"{'entry' if len(i.faq) == 1 else 'entries'} added from questions)",
        ),
        ("Answers by version", by_version),
    ]
    instruction_rows += [(f"FAQ {n}", q) for n, q in enumerate(i.faq, start=1)]

    return [
        title,
        intro,
        _heading("Progress"),
        progress,
        _heading("Contractors"),
        table,
        legend,
        *_quality(f.quality),
        _heading("Spread of work"),
        spread,
        _heading("Clarifications"),
        clarifications,
        _heading("Instructions"),
        _facts(instruction_rows),
        *_shifts(f),
        *_payouts(f),
    ]


def _quality(q: ProjectQuality | None) -> list[RenderableType]:
    """Agreement (Krippendorff's alpha) and each contractor's reliability (SPEC §6b)."""
    if q is None:
        return []
    alpha = q.agreement.primary
    rows = [
        (
            "Agreement",
            f"Krippendorff's alpha {'-' if alpha is None else f'{alpha:.3f}'} over "
            f"{q.agreement.items} items answered more than once; labels by {q.method}",
        )
    ]
    for r in q.raters:
        ci = r.gold.interval
        gold = "-" if ci is None else f"{r.gold.accuracy:.0%} ({ci.low:.0%}-{ci.high:.0%})"
        agree = "-" if r.agreement is None else f"{r.agreement:.0%}"
        model = "-" if r.model_accuracy is None else f"{r.model_accuracy:.0%}"
        rows.append(
            (
                r.display_name,
                f"gold {gold} · agreement {agree} · model accuracy {model}"
                f" · rejected {r.rejections}",
            )
        )
    return [_heading("Quality"), _facts(rows)]


def _spread(p: ProjectFigures) -> Table:
    """Gini and the top-20 % share, all time and per ISO week (SPEC §6b)."""
    s = p.spread
    rows = [
        (
            "Top 20%",
            f"Share of answers from the top 20% of contractors ({s.top_count} of "
            f"{s.people}): {s.top_share:.1%} ({s.top_answers} of {s.answers}; "
            f"{s.even_top_share:.0%} if everyone gave as many)",
        ),
        ("Gini", f"Gini coefficient of answers per contractor: {s.gini:.3f} (0 = all equal)"),
    ]
    rows += [(f"Week {d.week}", spread_words(d.spread)) for d in p.weekly]
    return _facts(rows)


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
