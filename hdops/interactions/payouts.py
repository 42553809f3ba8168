"""Payout buttons and forms: Approve (`hd:approve:<yyyyww>[:force]`), Dispute
(`hd:dispute:<line>`) and, for ops, accept/decline of a dispute
(`hd:dispute:<line>:accept.<id>` / `:decline.<id>`) with their forms."""

from __future__ import annotations

from hdops import actions
from hdops.chat import Message, Paragraph, Reply
from hdops.commands.payouts import approval_reply
from hdops.domain.inputs import parse_id
from hdops.domain.money import format_money
from hdops.domain.weeks import IsoWeek
from hdops.errors import InvalidInput, UnknownControl
from hdops.interactions import UNKNOWN_BUTTON, UNKNOWN_FORM, Context, button, form
from hdops.services import disputes, payouts


@button(actions.APPROVE)
def approve(ctx: Context) -> Reply:
    approval = payouts.approve_week(
        ctx.session,
        payouts.Actor(ctx.person, "chat"),
        IsoWeek.from_code(ctx.act.id),
        ctx.now,
        ctx.settings,
        force=ctx.act.arg == "force",
    )
    return approval_reply(approval)


def _resolution(arg: str, unknown: str) -> tuple[bool, int]:
    """`accept.<id>` / `decline.<id>` → (accept?, dispute id)."""
    verb, _, ident = arg.partition(".")
    if verb not in ("accept", "decline") or not ident.isdigit():
        raise UnknownControl(unknown)
    return verb == "accept", parse_id(ident, "dispute id")


@button(actions.DISPUTE)
def dispute(ctx: Context) -> Reply:
    if ctx.act.arg is None:
        return Reply(form=disputes.dispute_form(ctx.session, ctx.person, ctx.act.id))
    accept, dispute_id = _resolution(ctx.act.arg, UNKNOWN_BUTTON)
    return Reply(form=disputes.resolve_form(ctx.session, ctx.person, dispute_id, accept))


@form(actions.F_DISPUTE)
def dispute_form(ctx: Context) -> Reply:
    """The dispute form (contractor) and the accept/decline forms (ops)."""
    if ctx.act.arg is None:
        try:
            opened = disputes.open_dispute(
                ctx.session, ctx.person, ctx.act.id, ctx.fields.get("reason", ""), ctx.now
            )
        except InvalidInput as exc:
            raise InvalidInput(exc.message, [f"reason: {exc.message}"]) from None
        return Reply.say(f"Dispute #{opened.id} sent to ops. Their replies appear in its thread.")
    accept, dispute_id = _resolution(ctx.act.arg, UNKNOWN_FORM)
    try:
        resolved, adjustment = disputes.resolve_dispute(
            ctx.session,
            payouts.Actor(ctx.person, "chat"),
            dispute_id,
            accept=accept,
            note=ctx.fields.get("note", ""),
            amount=ctx.fields.get("amount"),
            now=ctx.now,
            settings=ctx.settings,
        )
    except InvalidInput as exc:
        field = "amount" if accept and "correction" in exc.message.lower() else "note"
        raise InvalidInput(exc.message, [f"{field}: {exc.message}"]) from None
    if adjustment is not None:
        text = (
            f"Dispute #{resolved.id} accepted: adjustment of "
            f"{format_money(adjustment.amount, adjustment.currency)} "
            f"{adjustment.currency} booked in {adjustment.week}."
        )
    else:
        text = f"Dispute #{resolved.id} declined; the contractor was told why."
    return Reply(message=Message(text=text, parts=[Paragraph(text=text)]))
