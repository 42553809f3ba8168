"""`hdops shift add|list|cancel|move`, `hdops shifts ics`, `hdops coverage`,
`hdops availability add|list|clear`, `hdops checkin|checkout` (SPEC §7).

The CLI is run by ops with access to the database, so it acts as ops; times are
read in the ops timezone unless `--tz` says otherwise. It calls the same
services as the chat commands and prints the same tables. A shift added here is
told to the contractor through the outbox, and the process that runs the
scheduler picks it up within a minute (its shift sync).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from hdops.cli.common import echo_json, handle_errors, open_store, out, settings
from hdops.clock import utcnow
from hdops.files import check_output_file, write_bytes
from hdops.render import charts
from hdops.render import shifts as render
from hdops.services.people import get_person
from hdops.services.shifts import availability as availability_service
from hdops.services.shifts import coverage as coverage_service
from hdops.services.shifts import shifts as svc

shift_app = typer.Typer(help="Shifts: schedule, list, move, cancel.", no_args_is_help=True)
shifts_app = typer.Typer(help="Shift feeds.", no_args_is_help=True)
availability_app = typer.Typer(help="Contractors' declared availability.", no_args_is_help=True)

PERSON = typer.Argument(
    ..., help="A person's name or identity (slack:U0123ABC).", show_default=False
)
DATE = typer.Argument(..., help="YYYY-MM-DD, today, tomorrow or mon…sun.", show_default=False)
RANGE = typer.Argument(..., help="HH:MM-HH:MM, e.g. 09:00-13:00.", show_default=False)
TZ = typer.Option(None, "--tz", help="Timezone the times are in (default: the ops timezone).")
WEEK = typer.Option(None, "--week", help="this, next or YYYY-Www (default: this week).")


@shift_app.command("add")
@handle_errors
def add_cmd(
    person: str = PERSON,
    date: str = DATE,
    span: str = RANGE,
    weekly: int = typer.Option(1, "--weekly", help="N shifts in all, one a week."),
    tz: str | None = TZ,
    role: str = typer.Option("contractor", "--role", help="contractor or researcher."),
) -> None:
    """Schedule a shift (refused if it clashes; a warning if outside availability)."""
    cfg = settings()
    store = open_store()
    try:
        with store.unit_of_work() as session:
            target = get_person(session, person)
            done = svc.add_shifts(
                session,
                target,
                date,
                span,
                settings=cfg,
                now=utcnow(),
                weekly=weekly,
                tz=tz,
                role=role,
            )
            reply = render.shifts_added(done.views, done.zone, target.display_name, done.warnings)
    finally:
        store.dispose()
    assert reply.message is not None
    out.print(reply.message.plain(), markup=False)


@shift_app.command("list")
@handle_errors
def list_cmd(
    person: str | None = typer.Argument(None, help="Only this person's shifts."),
    week: str | None = WEEK,
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """A week's shifts as a table (times in the ops timezone)."""
    cfg = settings()
    store = open_store()
    try:
        with store.unit_of_work() as session:
            target = get_person(session, person) if person else None
            views, zone, title = svc.list_shifts(
                session, None, settings=cfg, now=utcnow(), person=target, week=week, everyone=True
            )
    finally:
        store.dispose()
    if as_json:
        echo_json(
            [
                {
                    "id": v.id,
                    "person": v.person,
                    "role": v.role,
                    "starts_at": v.starts_at.isoformat(),
                    "ends_at": v.ends_at.isoformat(),
                    "status": v.status,
                }
                for v in views
            ]
        )
        return
    out.print(render.shifts_table(views, zone, title).plain(), markup=False)


@shift_app.command("cancel")
@handle_errors
def cancel_cmd(
    shift_id: str = typer.Argument(..., help="Shift id (see hdops shift list)."),
) -> None:
    """Cancel a shift; the person is told."""
    cfg = settings()
    store = open_store()
    try:
        with store.unit_of_work() as session:
            view = svc.cancel_shift(session, shift_id, settings=cfg, now=utcnow())
    finally:
        store.dispose()
    message = render.shift_cancelled_reply(view, cfg.ops_zone).message
    assert message is not None
    out.print(message.plain(), markup=False)


@shift_app.command("move")
@handle_errors
def move_cmd(
    shift_id: str = typer.Argument(..., help="Shift id (see hdops shift list)."),
    date: str = DATE,
    span: str = RANGE,
    tz: str | None = TZ,
) -> None:
    """Give a future shift a new day and time; the person is told."""
    cfg = settings()
    store = open_store()
    try:
        with store.unit_of_work() as session:
            done = svc.move_shift(session, shift_id, date, span, settings=cfg, now=utcnow(), tz=tz)
    finally:
        store.dispose()
    message = render.shift_moved_reply(done.views[0], done.zone, done.warnings).message
    assert message is not None
    out.print(message.plain(), markup=False)


@shifts_app.command("ics")
@handle_errors
def ics_cmd(
    person: str = typer.Option(..., "--person", help="Whose shifts.", show_default=False),
    out_file: Path | None = typer.Option(
        None, "--out", help="Write to this file (default: standard output)."
    ),
) -> None:
    """Write an iCalendar (RFC 5545) feed of a person's shifts."""
    if out_file is not None:
        check_output_file(out_file)
    store = open_store()
    try:
        with store.unit_of_work() as session:
            feed = svc.ics_feed(session, get_person(session, person), utcnow())
    finally:
        store.dispose()
    if out_file is None:
        sys.stdout.buffer.write(feed)
        sys.stdout.flush()
    else:
        write_bytes(out_file, feed)
        out.print(f"wrote {out_file}", markup=False)


@handle_errors
def coverage_cmd(
    week: str | None = WEEK,
    chart: Path | None = typer.Option(None, "--chart", help="Also write the chart as a PNG."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Scheduled contractor-hours per day vs. the target (HDOPS_COVERAGE_TARGET_HOURS)."""
    cfg = settings()
    if chart is not None:
        check_output_file(chart, "--chart")
    store = open_store()
    try:
        with store.unit_of_work() as session:
            report = coverage_service.coverage_report(session, cfg, week=week, now=utcnow())
    finally:
        store.dispose()
    written = None
    if chart is not None:
        written = write_bytes(chart.resolve(), charts.coverage_png(report), "--chart")
    if as_json:
        echo_json(
            {
                "chart": None if written is None else str(written),
                "week": report.week,
                "timezone": report.tz,
                "target_hours": report.target_minutes / 60,
                "days": [
                    {"day": d.day.isoformat(), "hours": d.minutes / 60, "shifts": d.shifts}
                    for d in report.days
                ],
                "gaps": [
                    {"day": d.day.isoformat(), "missing_hours": missing / 60}
                    for d, missing in report.gaps()
                ],
            }
        )
        return
    out.print(render.coverage_message(report).plain(), markup=False)
    if written is not None:
        out.print(f"chart written to {written}", markup=False)


@availability_app.command("add")
@handle_errors
def availability_add_cmd(
    person: str = PERSON,
    days: str = typer.Argument(..., help="mon-fri, sat,sun, …", show_default=False),
    span: str = RANGE,
) -> None:
    """Declare when PERSON can work (in their timezone)."""
    cfg = settings()
    store = open_store()
    try:
        with store.unit_of_work() as session:
            added = availability_service.add_availability(
                session, get_person(session, person), days, span, settings=cfg
            )
    finally:
        store.dispose()
    message = render.availability_added(*added).message
    assert message is not None
    out.print(message.plain(), markup=False)


@availability_app.command("list")
@handle_errors
def availability_list_cmd(person: str = PERSON) -> None:
    """PERSON's declared availability."""
    store = open_store()
    try:
        with store.unit_of_work() as session:
            target = get_person(session, person)
            message = render.availability_list(
                target.display_name, availability_service.availability(session, target)
            ).message
    finally:
        store.dispose()
    assert message is not None
    out.print(message.plain(), markup=False)


@availability_app.command("clear")
@handle_errors
def availability_clear_cmd(person: str = PERSON) -> None:
    """Remove all of PERSON's availability windows."""
    store = open_store()
    try:
        with store.unit_of_work() as session:
            count = availability_service.clear_availability(session, get_person(session, person))
    finally:
        store.dispose()
    message = render.availability_cleared(count).message
    assert message is not None
    out.print(message.plain(), markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(shift_app, name="shift")
    app.add_typer(shifts_app, name="shifts")
    app.add_typer(availability_app, name="availability")
    app.command("coverage")(coverage_cmd)
