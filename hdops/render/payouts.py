"""Payout messages: the ops summary (with its chart), private statements,
approval and adjustment notices, and the dispute thread (SPEC §8).

Pure: views in, neutral messages out. All wording about pay lives here. A
contractor's statement is built from their own `StatementView` only, so it
cannot show anybody else's data.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from hdops import actions
from hdops.chat import (
    Actions,
    Button,
    Context,
    FieldPart,
    Form,
    FormField,
    Heading,
    Image,
    Message,
    Paragraph,
    Table,
    defang_mentions,
)
from hdops.domain.money import format_money, format_rate
from hdops.domain.payouts import (
    DisputeView,
    LineView,
    StatementView,
    WeekView,
    format_hours,
    quantity_text,
)
from hdops.domain.weeks import IsoWeek

MAX_DISPUTE_BUTTONS = 20  # Slack allows 25 elements per actions block, Discord 25 per message
CHART_MAX_BARS = 30


def _money(value: Decimal, currency: str) -> str:
    return f"{format_money(value, currency)} {currency}"


def _rate(s: StatementView) -> str:
    rate = s.effective_hourly
    return "-" if rate is None else f"{format_money(rate, s.currency)}/h"


def _floor(view: WeekView) -> str:
    return format_rate(view.floor) if view.floor is not None else "-"


def _hours(value: Decimal) -> str:
    return f"{value:.2f}"


def _status_word(view: WeekView) -> str:
    if view.status == "approved":
        who = f" by {defang_mentions(view.approved_by)}" if view.approved_by else ""
        when = f" on {view.approved_at:%Y-%m-%d %H:%M} UTC" if view.approved_at else ""
        return f"approved{who}{when}"
    if view.status == "none":
        return "nothing drafted"
    return "draft" if view.ended else "draft (week still running)"


def _title(week: IsoWeek) -> str:
    return f"Payouts {week} ({week.span()})"


# --------------------------------------------------------------------------- ops


def summary_rows(view: WeekView) -> list[list[str]]:
    rows = []
    for s in sorted(view.statements, key=lambda s: (s.display_name.lower(), s.currency)):
        flag = "below floor" if s.below_floor else ""
        disputes = sum(1 for d in view.open_disputes if d.person_id == s.person_id)
        if disputes:
            flag = (flag + "; " if flag else "") + f"{disputes} open dispute(s)"
        rows.append(
            [
                defang_mentions(s.display_name),
                str(s.tasks),
                _hours(s.hours),
                _money(s.total, s.currency),
                _rate(s),
                flag,
            ]
        )
    for currency, total in view.totals.items():
        mine = [s for s in view.statements if s.currency == currency]
        rows.append(
            [
                f"Total {currency}",
                str(sum(s.tasks for s in mine)),
                _hours(sum((s.hours for s in mine), Decimal(0))),
                _money(total, currency),
                "",
                "",
            ]
        )
    return rows


SUMMARY_COLUMNS = ["Contractor", "Tasks", "Hours", "Amount", "Eff. rate", "Notes"]


def week_summary(view: WeekView, chart_png: bytes | None = None) -> Message:
    """What ops see: everyone's totals, warnings, open disputes and Approve."""
    parts: list[Any] = [
        Heading(text=f"{_title(view.week)} — {_status_word(view)}"),
        Context(text=f"Week boundaries: Monday 00:00 {view.tz}."),
    ]
    if not view.statements:
        parts.append(Paragraph(text="No earnings recorded for this week."))
    else:
        parts.append(Table(columns=SUMMARY_COLUMNS, rows=summary_rows(view)))
    low = view.below_floor
    if low and view.floor is not None:
        names = ", ".join(
            f"{defang_mentions(s.display_name)} ({_rate(s)} {s.currency})" for s in low
        )
        parts.append(
            Paragraph(text=f"⚠ Effective hourly rate below the floor of {_floor(view)}: {names}.")
        )
    if view.open_disputes:
        parts.append(
            Paragraph(
                text="Open disputes (resolve before approving):\n"
                + "\n".join(
                    f"#{d.id} {defang_mentions(d.person)} — {defang_mentions(d.line)}: "
                    f"{defang_mentions(d.reason)}"
                    for d in view.open_disputes
                )
            )
        )
    if chart_png is not None:
        parts.append(
            Image(
                filename=f"payouts-{view.week}.png",
                title=f"Amount and tasks per contractor, {view.week}",
                png_base64=base64.b64encode(chart_png).decode("ascii"),
            )
        )
    if view.status == "draft" and view.statements:
        parts.append(
            Actions(
                controls=[
                    Button(
                        action_id=actions.encode(actions.APPROVE, view.week.code),
                        label="Approve",
                        style="primary",
                    )
                ]
            )
        )
    totals = ", ".join(_money(t, c) for c, t in view.totals.items()) or "nothing"
    return Message(text=f"Payouts {view.week}: {totals} ({_status_word(view)})", parts=parts)


def approval_needs_confirmation(view: WeekView) -> Message:
    """Ops pressed Approve but some effective rates are below the floor."""
    low = view.below_floor
    floor = _floor(view)
    text = (
        f"{len(low)} statement(s) for {view.week} have an effective hourly rate below the "
        f"floor of {floor}: "
        + ", ".join(f"{defang_mentions(s.display_name)} {_rate(s)} {s.currency}" for s in low)
        + ". Add a top-up with /hdops payouts adjust, or approve anyway."
    )
    return Message(
        text=text,
        parts=[
            Paragraph(text="⚠ " + text),
            Actions(
                controls=[
                    Button(
                        action_id=actions.encode(actions.APPROVE, view.week.code, "force"),
                        label="Approve anyway",
                        style="danger",
                    )
                ]
            ),
        ],
    )


def approval_changed(view: WeekView, chart_png: bytes | None = None) -> Message:
    """Ops pressed Approve on statements that changed since they were last shown
    (e.g. an adjustment nobody has looked at): the current ones, to approve again."""
    text = (
        f"Not approved: the statements for {view.week} changed since they were last "
        "shown. Here they are as they are now; press Approve again to approve them."
    )
    summary = week_summary(view, chart_png)
    return Message(text=text, parts=[Paragraph(text="⚠ " + text), *summary.parts])


def approved_reply(view: WeekView) -> Message:
    totals = ", ".join(_money(t, c) for c, t in view.totals.items()) or "nothing to pay"
    text = f"Approved payouts for {view.week}: {len(view.statements)} statement(s), {totals}."
    return Message(text=text, parts=[Paragraph(text=text)])


def summary_chart(view: WeekView) -> bytes | None:
    """A PNG bar chart of amount and tasks per contractor (the largest amounts
    first; beyond CHART_MAX_BARS the rest are one "others" bar per currency).

    Amounts stay Decimal until they are handed to matplotlib."""
    if not view.statements:
        return None
    ordered = sorted(view.statements, key=lambda s: (-s.total, s.display_name, s.currency))
    multi = len(view.totals) > 1
    bars: list[tuple[str, Decimal, int]] = [
        (s.display_name + (f" ({s.currency})" if multi else ""), s.total, s.tasks)
        for s in ordered[:CHART_MAX_BARS]
    ]
    rest = ordered[CHART_MAX_BARS:]
    for currency in sorted({s.currency for s in rest}):
        mine = [s for s in rest if s.currency == currency]
        amount = sum((s.total for s in mine), Decimal(0))
        bars.append((f"{len(mine)} others ({currency})", amount, sum(s.tasks for s in mine)))
    return _bar_chart(
        title=f"Payouts {view.week}",
        labels=[b[0] for b in bars],
        amounts=[b[1] for b in bars],
        tasks=[b[2] for b in bars],
        currency="" if multi else next(iter(view.totals)),
    )


def _bar_chart(
    title: str,
    labels: Sequence[str],
    amounts: Sequence[Decimal],
    tasks: Sequence[int],
    currency: str,
) -> bytes:
    # The object API (Figure + Agg canvas), never pyplot: no global backend switch.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    height = max(2.5, 0.32 * len(labels) + 1.2)
    fig = Figure(figsize=(9, height), dpi=80)
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, sharey=True)
    positions = list(range(len(labels)))
    # The one place money becomes float: pixel positions of bars.
    left.barh(positions, [float(a) for a in amounts], color="#2f6f9f")
    left.set_yticks(positions, labels=list(labels))
    left.invert_yaxis()
    left.set_xlabel(f"amount{' (' + currency + ')' if currency else ' (statement currency)'}")
    right.barh(positions, list(tasks), color="#9f6f2f")
    right.set_xlabel("accepted tasks")
    fig.suptitle(title)
    fig.tight_layout()
    buffer = io.BytesIO()
    # No metadata: the same data gives the same bytes (the demo is deterministic).
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


# --------------------------------------------------------------------------- contractors


LINE_COLUMNS = ["#", "Line", "Qty", "Rate", "Amount"]


def _qty(line: LineView) -> str:
    text = quantity_text(line.kind, line.quantity)
    return f"{text} h" if line.kind == "hours" else text


def statement_message(s: StatementView, *, disputable: bool = True) -> Message:
    """A contractor's own statement: their lines only, total, effective rate, and a
    Dispute button per line. Quantity × rate = amount on every line, in the
    statement's currency (see `hdops.domain.payouts` for how hours are paid)."""
    rows = [
        [
            str(line.position),
            defang_mentions(line.description)
            + (f" (dispute #{line.open_dispute} open)" if line.open_dispute else ""),
            _qty(line),
            format_rate(line.unit_amount, s.currency),
            format_money(line.amount, s.currency),
        ]
        for line in s.lines
    ]
    state = "approved" if s.status == "approved" else "draft — not yet approved"
    parts: list[Any] = [
        Heading(text=f"Your statement {s.week} ({s.week.span()}) — {state}"),
        Table(columns=LINE_COLUMNS, rows=rows),
        FieldPart(label="Total", value=_money(s.total, s.currency)),
        FieldPart(
            label="Effective hourly rate",
            value=f"{_rate(s)} over {format_hours(s.active_seconds)} h active "
            "(checked-in time or time on tasks, whichever is longer)",
        ),
    ]
    buttons = [
        Button(
            action_id=actions.encode(actions.DISPUTE, line.id),
            label=f"Dispute line {line.position}",
        )
        for line in s.lines
        if line.open_dispute is None
    ]
    if disputable and buttons:
        parts.append(Actions(controls=buttons[:MAX_DISPUTE_BUTTONS]))
        note = "Something wrong? Press Dispute on the line and tell ops why."
        if len(buttons) > MAX_DISPUTE_BUTTONS:
            note += " For other lines: /hdops payouts dispute LINE_ID REASON."
        parts.append(Context(text=note + f" Statement #{s.id}."))
    return Message(
        text=f"Your statement for {s.week}: {_money(s.total, s.currency)} ({state})",
        parts=parts,
    )


def no_statement(week: IsoWeek) -> Message:
    text = f"You have no earnings recorded for {week} ({week.span()})."
    return Message(text=text, parts=[Paragraph(text=text)])


def statement_approved(s: StatementView) -> Message:
    text = (
        f"Your statement for {s.week} was approved: {_money(s.total, s.currency)}. "
        "Payment follows; later corrections appear as adjustments in a later week."
    )
    return Message(text=text, parts=[Paragraph(text=text)])


def adjustment_added(week: IsoWeek, amount: Decimal, currency: str, reason: str) -> Message:
    sign = "+" if amount > 0 else ""
    text = (
        f"Ops added an adjustment of {sign}{format_money(amount, currency)} {currency} to your "
        f"{week} statement: {defang_mentions(reason)}"
    )
    return Message(text=text, parts=[Paragraph(text=text)])


# --------------------------------------------------------------------------- disputes


def dispute_form(line: LineView, currency: str) -> Form:
    return Form(
        form_id=actions.encode(actions.F_DISPUTE, line.id),
        title="Dispute a line",
        intro=f"Line {line.position}: {line.description[:200]} — "
        f"{format_money(line.amount, currency)} {currency}",
        fields=[
            FormField(
                name="reason",
                label="What is wrong?",
                kind="long",
                min_length=3,
                max_length=1000,
                hint="Ops see this and reply in a thread.",
            )
        ],
        submit_label="Send to ops",
    )


def resolve_form(d: DisputeView, accept: bool) -> Form:
    arg = f"{'accept' if accept else 'decline'}.{d.id}"
    if accept:
        fields = [
            FormField(
                name="amount",
                label=f"Correction ({d.currency}, e.g. 4.00 or -2.50)",
                kind="short",
                max_length=20,
            ),
            FormField(name="note", label="Note for the contractor", kind="long", max_length=1000),
        ]
        title, submit = "Accept dispute", "Accept"
    else:
        fields = [FormField(name="note", label="Why declined", kind="long", max_length=1000)]
        title, submit = "Decline dispute", "Decline"
    return Form(
        form_id=actions.encode(actions.F_DISPUTE, d.line_id, arg),
        title=title,
        intro=f"Dispute #{d.id} by {d.person}: {d.reason[:300]}",
        fields=fields,
        submit_label=submit,
    )


def dispute_post(d: DisputeView) -> Message:
    """The ops-channel message that opens the dispute thread."""
    parts: list[Any] = [
        Heading(text=f"Dispute #{d.id} — {defang_mentions(d.person)}, payouts {d.week}"),
        FieldPart(
            label="Line", value=f"{defang_mentions(d.line)} ({_money(d.amount, d.currency)})"
        ),
        FieldPart(label="Reason", value=defang_mentions(d.reason)),
    ]
    if d.status == "open":
        parts.append(
            Actions(
                controls=[
                    Button(
                        action_id=actions.encode(actions.DISPUTE, d.line_id, f"accept.{d.id}"),
                        label="Accept (adjust)",
                        style="primary",
                    ),
                    Button(
                        action_id=actions.encode(actions.DISPUTE, d.line_id, f"decline.{d.id}"),
                        label="Decline",
                    ),
                ]
            )
        )
        parts.append(Context(text="Reply in this thread; replies go to the contractor."))
    else:
        by = f" by {defang_mentions(d.resolved_by)}" if d.resolved_by else ""
        parts.append(
            Paragraph(text=f"✓ {d.status.capitalize()}{by}: {defang_mentions(d.resolution or '')}")
        )
    return Message(text=f"Dispute #{d.id} from {defang_mentions(d.person)}", parts=parts)


def dispute_opened(d: DisputeView) -> Message:
    text = (
        f"Your dispute #{d.id} about “{defang_mentions(d.line)}” went to ops. Their replies "
        "appear in this thread, and you can reply here too."
    )
    return Message(text=text, parts=[Paragraph(text=text)])


def dispute_resolved(d: DisputeView, adjustment_week: str | None) -> Message:
    if d.status == "accepted":
        where = f" It is booked as an adjustment in {adjustment_week}." if adjustment_week else ""
        text = f"Your dispute #{d.id} was accepted: {defang_mentions(d.resolution or '')}.{where}"
    else:
        text = f"Your dispute #{d.id} was declined: {defang_mentions(d.resolution or '')}"
    return Message(text=text, parts=[Paragraph(text=text)])
