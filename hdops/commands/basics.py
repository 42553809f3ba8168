"""Contractor commands: next, pause, resume, ask, tz, help."""

from __future__ import annotations

from hdops.chat import Heading, Message, Paragraph, Reply
from hdops.commands import Invocation, command, commands
from hdops.domain.no_task import NoTask
from hdops.errors import InvalidInput
from hdops.render import no_task as no_task_render
from hdops.services import clarifications, dispatch
from hdops.services.people import require_active, set_preferred_platform, set_timezone
from hdops.store import dispatch as q
from hdops.store.orm import ContractorProfile


def _profile(inv: Invocation) -> ContractorProfile:
    profile = inv.person.profile
    if profile is None:
        profile = ContractorProfile(skills=[], hourly_rate=None, currency="USD", status="active")
        inv.person.profile = profile
    return profile


@command("next", roles=("contractor",), usage="next", summary="get a task now")
def next_task(inv: Invocation) -> Reply:
    require_active(inv.person, "get tasks", yourself=True)
    profile = _profile(inv)
    profile.available = True
    current = q.open_task(inv.session, inv.person.id)
    if current is not None:
        dispatch.show_task(inv.session, current, inv.now)
        return Reply.say("You already have an open task — I've sent it to you again.")
    outcome = dispatch.offer_or_explain(inv.session, inv.person, inv.now)
    if isinstance(outcome, NoTask):
        return Reply(message=no_task_render.why_no_task(outcome))
    return Reply.say("Your next task is in your direct messages.")


@command("pause", roles=("contractor",), usage="pause", summary="stop task pushes")
def pause(inv: Invocation) -> Reply:
    profile = _profile(inv)
    if not profile.available:
        return Reply.say("You're already paused. /hdops resume to get tasks again.")
    profile.available = False
    return Reply.say(
        "Paused: no new tasks will be pushed to you. Your open task stays yours until its "
        "time runs out. /hdops resume to continue."
    )


@command("resume", roles=("contractor",), usage="resume", summary="restart task pushes")
def resume(inv: Invocation) -> Reply:
    require_active(inv.person, "get tasks", yourself=True)
    profile = _profile(inv)
    profile.available = True
    outcome = dispatch.offer_or_explain(inv.session, inv.person, inv.now)
    if isinstance(outcome, NoTask):
        return Reply(message=no_task_render.why_no_task(outcome, resumed=True))
    return Reply.say("Resumed. Your task is in your direct messages.")


@command("ask", roles=("contractor",), usage="ask TEXT", summary="ask about your current task")
def ask(inv: Invocation) -> Reply:
    text = inv.free_text()
    if not text:
        raise InvalidInput("Usage: /hdops ask TEXT — your question about the current task.")
    assignment = clarifications.current_or_last_assignment(inv.session, inv.person)
    clar = clarifications.open_clarification(inv.session, inv.person, assignment.id, text, inv.now)
    return Reply.say(
        f"Question #{clar.id} sent to the researchers. Replies come in the task's thread."
    )


@command("tz", usage="tz ZONE", summary="set your timezone (e.g. Europe/London)")
def tz(inv: Invocation) -> Reply:
    if len(inv.args) != 1:
        raise InvalidInput("Usage: /hdops tz ZONE, for example /hdops tz Europe/London")
    set_timezone(inv.session, inv.person, inv.args[0])
    return Reply.say(f"Your timezone is now {inv.args[0]}.")


PLATFORM_WORDS = {"slack": "slack", "discord": "discord", "console": "console", "last": None}


@command(
    "prefer",
    usage="prefer slack|discord|console|last",
    summary="where your direct messages go (last: where you used hdops last)",
)
def prefer(inv: Invocation) -> Reply:
    word = inv.args[0].lower() if len(inv.args) == 1 else ""
    if word not in PLATFORM_WORDS:
        raise InvalidInput("Usage: /hdops prefer slack|discord|console|last")
    platform = PLATFORM_WORDS[word]
    set_preferred_platform(inv.session, inv.person, platform)
    if platform is None:
        return Reply.say("Your messages now go wherever you used hdops last.")
    return Reply.say(f"Your messages now go to {platform}, wherever you use hdops.")


@command("help", usage="help", summary="this list")
def help_(inv: Invocation) -> Reply:
    lines = [
        f"/hdops {c.usage} — {c.summary}" + (f" ({', '.join(c.roles)})" if c.roles else "")
        for c in commands()
        if not c.roles or inv.has(*c.roles)
    ]
    return Reply(
        message=Message(
            text="hdops commands",
            parts=[Heading(text="hdops commands"), Paragraph(text="\n".join(lines))],
        )
    )
