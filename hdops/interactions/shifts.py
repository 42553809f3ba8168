"""Shift buttons and forms: answering a swap request, correcting a check-in that
hdops closed by itself."""

from __future__ import annotations

from hdops import actions
from hdops.chat import Reply
from hdops.errors import InvalidInput
from hdops.interactions import Context, button, form
from hdops.render import shifts as shift_render
from hdops.services import checkins
from hdops.services import shifts as shift_service


@button(actions.SWAP_OK, actions.SWAP_NO)
def answer_swap(ctx: Context) -> Reply:
    text = shift_service.answer_swap(
        ctx.session,
        ctx.person,
        ctx.act.id,
        ctx.act.arg,
        ctx.act.verb == actions.SWAP_OK,
        settings=ctx.settings,
        now=ctx.now,
    )
    return Reply.say(text)


@button(actions.CHECKIN_FIX)
def check_in_fix_form(ctx: Context) -> Reply:
    entry = checkins.check_in_to_fix(ctx.session, ctx.person, ctx.act.id)
    assert entry.ended_at is not None
    zone = shift_service.zone_of(ctx.person, ctx.settings)
    return Reply(
        form=shift_render.check_in_fix_form(entry.id, entry.started_at, entry.ended_at, zone)
    )


@form(actions.F_CHECKIN_FIX)
def fix_check_in(ctx: Context) -> Reply:
    try:
        fixed = checkins.fix_check_in(
            ctx.session,
            ctx.person,
            ctx.fields.get("until", ""),
            ctx.fields.get("reason", ""),
            settings=ctx.settings,
            now=ctx.now,
            entry_id=ctx.act.id,
        )
    except InvalidInput as exc:
        field = "reason" if "reason" in exc.message.lower() else "until"
        raise InvalidInput(exc.message, [f"{field}: {exc.message}"]) from None
    assert fixed.entry.ended_at is not None
    return shift_render.check_in_fixed_reply(
        fixed.entry.started_at, fixed.entry.ended_at, fixed.zone
    )
