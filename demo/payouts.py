"""The demo's payout step: the Monday job after the simulated day, and its report.

After the working day the clock jumps to the next Monday 09:00 (ops timezone)
and the real weekly job (`hdops.services.payouts.run_weekly_payouts`) drafts
the week, posts the ops summary with its chart and DMs every contractor their
statement, through the same outbox and local chat as everything else. The
figures shown are read back from the stored statements.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.text import Text

from demo.tables import report_table
from hdops.chat import Image
from hdops.domain.money import format_money
from hdops.domain.weeks import IsoWeek
from hdops.services import payouts

if TYPE_CHECKING:
    from demo.simulation import Simulation

JOB_HOUR = 9


@dataclass(frozen=True)
class PayoutRow:
    display_name: str
    tasks: int
    hours: str
    amount: str
    rate: str


@dataclass(frozen=True)
class PayoutFigures:
    week: str
    span: str
    status: str
    rows: list[PayoutRow]
    totals: list[str]
    statements_sent: int
    summary_posted: bool
    chart: Path | None


async def run_payouts(sim: Simulation, out_dir: Path) -> PayoutFigures:
    """Run the Monday job after the simulated day and read back what it drafted."""
    settings = sim.core.settings
    week = IsoWeek.containing(sim.clock.now(), settings.ops_tz)
    monday = week.shift(1).start(settings.ops_tz) + timedelta(hours=JOB_HOUR)
    second = sim.now + int((monday - sim.clock.now()).total_seconds())
    sim.clock.set(monday)
    with sim.store.unit_of_work() as session:
        run = payouts.run_weekly_payouts(session, monday, settings)
    await sim.deliver(always=True)
    # Stamp what the job sent so the transcript shows it too (after the day's entries).
    sim._stamps.extend([second] * (len(sim.chat.transcript) - len(sim._stamps)))
    with sim.store.unit_of_work() as session:
        view = payouts.week_view(session, run.week, monday, settings)
    chart = _save_chart(sim, out_dir)
    rows = [
        PayoutRow(
            s.display_name,
            s.tasks,
            f"{s.hours:.2f}",
            f"{format_money(s.total, s.currency)} {s.currency}",
            "-"
            if s.effective_hourly is None
            else f"{format_money(s.effective_hourly, s.currency)}/h",
        )
        for s in sorted(view.statements, key=lambda s: (-s.total, s.display_name))
    ]
    sent = sum(
        1
        for m in sim.chat.messages.values()
        if m.channel.startswith("dm-") and m.text.startswith("== Your statement")
    )
    return PayoutFigures(
        week=str(view.week),
        span=view.week.span(),
        status=view.status,
        rows=rows,
        totals=[f"{format_money(t, c)} {c}" for c, t in view.totals.items()],
        statements_sent=sent,
        summary_posted=run.summary_queued,
        chart=chart,
    )


def _save_chart(sim: Simulation, out_dir: Path) -> Path | None:
    """The chart as the ops channel received it, next to the other demo files."""
    for message in sim.chat.channel("ops"):
        for part in message.message.parts:
            if isinstance(part, Image):
                path = out_dir / part.filename
                path.write_bytes(base64.b64decode(part.png_base64))
                return path
    return None


def renderables(f: PayoutFigures) -> list[RenderableType]:
    table = report_table()
    table.add_column("Contractor", no_wrap=True)
    table.add_column("Tasks", justify="right")
    table.add_column("Hours", justify="right")
    table.add_column("Amount", justify="right")
    table.add_column("Eff. rate", justify="right")
    for r in f.rows:
        table.add_row(r.display_name, str(r.tasks), r.hours, r.amount, r.rate)
    table.add_section()
    table.add_row(
        "Total",
        str(sum(r.tasks for r in f.rows)),
        "",
        " + ".join(f.totals) or "-",
        "",
        style="bold",
    )
    status = "awaiting approval" if f.status == "draft" else f.status
    note = Text(
        f"Drafted by the Monday 09:00 job: {len(f.rows)} statements ({status}); "
        f"{f.statements_sent} sent privately to their contractors; ops summary "
        f"{'posted with Approve and a chart' if f.summary_posted else 'not posted'}"
        + (f" ({f.chart.name})." if f.chart else "."),
        style="dim",
    )
    return [
        Text(f"\nPayouts {f.week} ({f.span})", style="bold underline"),
        table,
        note,
    ]
