"""`hdops payouts show|approve|export|adjust|disputes|resolve` (SPEC §8).

The CLI calls the same services as the chat. Without `--as PERSON` the audit
log records the operating-system user who ran the command; with it, the person
(who must hold the ops role).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import typer
from rich.table import Table

from hdops.cli.common import echo_json, err, handle_errors, open_store, out, settings
from hdops.cli.payouts_export import view_json, write_csv
from hdops.clock import utcnow
from hdops.domain.inputs import MAX_ID
from hdops.domain.money import format_money, format_rate, money_text
from hdops.domain.payouts import StatementView, WeekView, format_hours, quantity_text
from hdops.domain.weeks import parse_week
from hdops.files import check_output_file
from hdops.render.payouts import summary_rows
from hdops.services import disputes as dispute_service
from hdops.services.payouts.actors import cli_actor
from hdops.services.payouts.adjustments import add_adjustment
from hdops.services.payouts.approval import approve_week
from hdops.services.payouts.drafting import show_week
from hdops.services.payouts.views import export_view
from hdops.store.orm import Person

payouts_app = typer.Typer(help="Weekly payout statements.", no_args_is_help=True)

WEEK_HELP = "this, next, last (= prev) or YYYY-Www, in the ops timezone"
AS_HELP = "Who does it (needs the ops role); default: your OS user, in the audit log."


def _print_week(view: WeekView, person: str | None) -> None:
    out.print(f"Payouts {view.week} ({view.week.span()}, {view.tz}) — {view.status}", markup=False)
    if person is None:
        table = Table("contractor", "tasks", "hours", "amount", "eff. rate", "notes")
        for row in summary_rows(view):
            table.add_row(*row)
        out.print(table)
    for s in view.statements:
        if person is not None:
            out.print(f"{s.display_name} ({s.currency}, {s.status})", markup=False)
            lines = Table("#", "line", "qty", "rate", "amount")
            for line in s.lines:
                lines.add_row(
                    str(line.position),
                    line.description,
                    quantity_text(line.kind, line.quantity),
                    format_rate(line.unit_amount, s.currency),
                    format_money(line.amount, s.currency),
                )
            out.print(lines)
            rate = s.effective_hourly
            out.print(
                f"total {format_money(s.total, s.currency)} {s.currency}; effective hourly rate "
                f"{'-' if rate is None else format_money(rate, s.currency)} over "
                f"{format_hours(s.active_seconds)} h active",
                markup=False,
            )
    for s in view.below_floor:
        err.print(_below_floor(view, s), markup=False)
    for d in view.open_disputes:
        out.print(f"open dispute #{d.id} by {d.person}: {d.line} — {d.reason}", markup=False)


def _below_floor(view: WeekView, s: StatementView) -> str:
    rate = format_money(s.effective_hourly or Decimal(0), s.currency)
    floor = format_rate(view.floor or Decimal(0))
    return f"warning: {s.name} earns {rate}/h {s.currency}, below the floor of {floor}"


@payouts_app.command("show")
@handle_errors
def show(
    week: str = typer.Option("last", "--week", help=WEEK_HELP),
    person: str | None = typer.Option(None, "--person", help="Only this person's statement."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Draft the week (unless approved) and show its statements."""
    cfg, now = settings(), utcnow()
    wanted = parse_week(week, now, cfg.ops_tz, default="last")
    store = open_store()
    with store.unit_of_work() as session:
        person_id = None
        if person is not None:
            from hdops.services.people import get_person

            person_id = get_person(session, person).id
        view = show_week(session, wanted, now, cfg, person_id=person_id)
    if as_json:
        echo_json(view_json(view))
        return
    _print_week(view, person)


@payouts_app.command("approve")
@handle_errors
def approve(
    week: str = typer.Option(..., "--week", help=WEEK_HELP),
    force: bool = typer.Option(
        False, "--force", help="Approve although some effective rates are below the floor."
    ),
    as_person: str | None = typer.Option(None, "--as", help=AS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Approve and lock a week's statements (they never change afterwards).

    Statements that changed since ops were last shown them (e.g. an adjustment
    nobody has looked at) are printed instead, and approve exits with 3: run it
    again to approve what you have now seen."""
    cfg, now = settings(), utcnow()
    wanted = parse_week(week, now, cfg.ops_tz, default="last")
    store = open_store()
    with store.unit_of_work() as session:
        actor = cli_actor(session, as_person)
        approval = approve_week(session, actor, wanted, now, cfg, force=force)
    view = approval.view
    if as_json:
        echo_json({"result": approval.status, **view_json(view)})
    elif approval.status == "approved":
        totals = ", ".join(f"{format_money(t, c)} {c}" for c, t in view.totals.items())
        out.print(f"approved {view.week}: {len(view.statements)} statements, {totals}")
    elif approval.status == "already":
        out.print(f"{view.week} was already approved", markup=False)
    elif approval.status == "changed":
        _print_week(view, None)
    if approval.status == "changed":
        err.print(
            f"error: not approved: the statements of {view.week} changed since they were "
            "last shown (they are shown above); run approve again to approve them",
            markup=False,
        )
        raise typer.Exit(3)
    if approval.status == "needs_confirmation":
        for s in view.below_floor:
            err.print(_below_floor(view, s), markup=False)
        err.print("error: not approved; pass --force to approve anyway", markup=False)
        raise typer.Exit(3)


@payouts_app.command("export")
@handle_errors
def export(
    week: str = typer.Option("last", "--week", help=WEEK_HELP),
    out_path: Path = typer.Option(..., "--out", help="CSV file to write."),
    include_draft: bool = typer.Option(
        False, "--include-draft", help="Export a week that is not approved yet (a preview)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Write one CSV row per statement line, for payment (formula-injection safe)."""
    check_output_file(out_path)
    cfg, now = settings(), utcnow()
    wanted = parse_week(week, now, cfg.ops_tz, default="last")
    store = open_store()
    with store.unit_of_work() as session:
        view = export_view(session, wanted, now, cfg, include_draft=include_draft)
        rows = write_csv(view, out_path)
    if as_json:
        echo_json(
            {
                "week": str(view.week),
                "status": view.status,
                "rows": rows,
                "path": str(out_path),
                "totals": {c: money_text(t, c) for c, t in view.totals.items()},
            }
        )
    else:
        out.print(f"wrote {rows} lines of {view.week} ({view.status}) to {out_path}", markup=False)


@payouts_app.command(
    "adjust", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": True}
)
@handle_errors
def adjust(
    person: str = typer.Argument(..., help="Name or identity (slack:U…)."),
    amount: str = typer.Argument(..., help="e.g. 25.00 or -10.00 (2 decimal places)."),
    reason: str = typer.Option(..., "--reason", help="Why; the contractor sees it."),
    week: str = typer.Option("this", "--week", help=WEEK_HELP),
    currency: str | None = typer.Option(None, "--currency", help="Default: the person's."),
    as_person: str | None = typer.Option(None, "--as", help=AS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Book a bonus or correction for PERSON in a week that is not approved."""
    cfg, now = settings(), utcnow()
    wanted = parse_week(week, now, cfg.ops_tz, default="last")
    store = open_store()
    with store.unit_of_work() as session:
        actor = cli_actor(session, as_person)
        adj = add_adjustment(
            session, actor, person, amount, reason, wanted, now, cfg, currency=currency
        )
        who = session.get(Person, adj.person_id)
        data = {
            "id": adj.id,
            "person": who.name if who else person,
            "week": adj.week,
            "amount": money_text(adj.amount, adj.currency),
            "currency": adj.currency,
            "reason": adj.reason,
        }
    if as_json:
        echo_json(data)
    else:
        out.print(
            f"adjustment #{data['id']}: {data['amount']} {data['currency']} for "
            f"{data['person']} in {data['week']}",
            markup=False,
        )


@payouts_app.command("disputes")
@handle_errors
def list_disputes(
    week: str | None = typer.Option(None, "--week", help=WEEK_HELP),
    only_open: bool = typer.Option(False, "--open", help="Only open disputes."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List payout disputes."""
    cfg, now = settings(), utcnow()
    wanted = parse_week(week, now, cfg.ops_tz, default="last") if week else None
    store = open_store()
    with store.unit_of_work() as session:
        found = dispute_service.list_disputes(session, wanted, only_open=only_open)
    if as_json:
        echo_json(
            [
                {
                    "id": d.id,
                    "week": d.week,
                    "person": d.person,
                    "status": d.status,
                    "line": d.line,
                    "reason": d.reason,
                    "resolution": d.resolution,
                }
                for d in found
            ]
        )
        return
    table = Table("id", "week", "contractor", "status", "line", "reason")
    for d in found:
        table.add_row(str(d.id), d.week, d.person, d.status, d.line[:60], d.reason[:80])
    out.print(table)


@payouts_app.command("resolve")
@handle_errors
def resolve(
    dispute_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Dispute number."),
    accept: str | None = typer.Option(
        None, "--accept", help="Accept and book this correction (e.g. 4.00)."
    ),
    decline: bool = typer.Option(False, "--decline", help="Decline the dispute."),
    note: str = typer.Option(..., "--note", help="Note or reason; the contractor sees it."),
    as_person: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Resolve a dispute: --accept AMOUNT (an adjustment) or --decline, with --note."""
    if (accept is None) == (not decline):
        from hdops.errors import InvalidInput

        raise InvalidInput("give exactly one of --accept AMOUNT or --decline")
    cfg, now = settings(), utcnow()
    store = open_store()
    with store.unit_of_work() as session:
        actor = cli_actor(session, as_person)
        dispute, adj = dispute_service.resolve_dispute(
            session,
            actor,
            dispute_id,
            accept=accept is not None,
            note=note,
            amount=accept,
            now=now,
            settings=cfg,
        )
        text = f"dispute #{dispute.id} {dispute.status}" + (
            f"; adjustment {money_text(adj.amount, adj.currency)} {adj.currency} in {adj.week}"
            if adj
            else ""
        )
    out.print(text, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(payouts_app, name="payouts")
