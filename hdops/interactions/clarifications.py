"""The researchers' buttons on a question: Resolve, Add to FAQ (and its form)."""

from __future__ import annotations

from hdops import actions
from hdops.chat import Reply
from hdops.interactions import Context, button, form
from hdops.render.clarifications import faq_form
from hdops.services import clarifications


@button(actions.RESOLVE)
def resolve(ctx: Context) -> Reply:
    done = clarifications.resolve(ctx.session, ctx.person, ctx.act.id, ctx.now)
    return Reply.say("Resolved." if done else "That question was already resolved.")


@button(actions.FAQ)
def faq(ctx: Context) -> Reply:
    clar = clarifications.get_clarification(ctx.session, ctx.act.id)
    clarifications.require_lead_of(ctx.session, ctx.person, clar, "edit the FAQ")
    last = clarifications.last_researcher_reply(ctx.session, clar.id)
    return Reply(form=faq_form(clar.id, clar.question, last))


@form(actions.F_FAQ)
def add_to_faq(ctx: Context) -> Reply:
    version = clarifications.add_to_faq(
        ctx.session,
        ctx.person,
        ctx.act.id,
        ctx.fields.get("question", ""),
        ctx.fields.get("answer", ""),
        ctx.now,
    )
    return Reply.say(f"Added to the FAQ (instructions v{version}).")
