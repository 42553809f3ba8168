"""Payout commands, buttons and forms in chat (SPEC §8).

`/hdops payouts [--week WEEK]` shows ops everyone's statements and a contractor
their own only; `/hdops payouts approve WEEK`, `/hdops payouts adjust PERSON
AMOUNT --reason …` and `/hdops payouts disputes` are for ops; `/hdops payouts
dispute LINE REASON` is the contractor's fallback for the Dispute button (the
buttons and forms themselves are in `hdops.interactions.payouts`).
"""

from __future__ import annotations

from hdops.chat import Message, Reply, Table, defang_mentions
from hdops.commands import Invocation, command
from hdops.domain.inputs import parse_id
from hdops.domain.money import format_money
from hdops.domain.weeks import IsoWeek, parse_week
from hdops.errors import InvalidInput
from hdops.render import payouts as render
from hdops.services import disputes
from hdops.services.payouts.actors import Actor
from hdops.services.payouts.adjustments import add_adjustment
from hdops.services.payouts.approval import Approval, approve_week
from hdops.services.payouts.drafting import show_week
from hdops.store.orm import Person

FLAGS_WITH_VALUE = ("--week", "--currency")


def _options(
    args: list[str], *, flags: tuple[str, ...] = (), rest: str | None = None
) -> tuple[list[str], dict[str, str]]:
    """Split `args` into positionals and options. `rest` names an option that takes
    every following word up to the next option (a free-text reason)."""
    positional: list[str] = []
    options: dict[str, str] = {}
    i = 0
    while i < len(args):
        word = args[i]
        low = word.lower()
        if low in flags:
            options[low] = "yes"
        elif low in FLAGS_WITH_VALUE:
            if i + 1 >= len(args):
                raise InvalidInput(f"{word} needs a value.")
            options[low] = args[i + 1]
            i += 1
        elif rest is not None and low == rest:
            words = []
            while i + 1 < len(args) and not args[i + 1].startswith("--"):
                words.append(args[i + 1])
                i += 1
            options[rest] = " ".join(words)
        elif low.startswith("--") and low not in ("--",):
            raise InvalidInput(f"Unknown option {word}.")
        else:
            positional.append(word)
        i += 1
    return positional, options


def _week(inv: Invocation, text: str | None, default: str = "last") -> IsoWeek:
    return parse_week(text, inv.now, inv.settings.ops_tz, default=default)


@command(
    "payouts",
    roles=("ops", "contractor"),
    usage="payouts [--week WEEK] [--mine]",
    summary="weekly pay statements (ops: everyone; contractors: your own)",
)
def show(inv: Invocation) -> Reply:
    positional, opts = _options(inv.args, flags=("--mine",))
    if positional:
        raise InvalidInput("Usage: /hdops payouts [--week last|this|YYYY-Www] [--mine]")
    week = _week(inv, opts.get("--week"))
    if inv.has("ops") and "--mine" not in opts:
        view = show_week(inv.session, week, inv.now, inv.settings)
        return Reply(message=render.week_summary(view, render.summary_chart(view)))
    view = show_week(inv.session, week, inv.now, inv.settings, person_id=inv.person.id)
    mine = [s for s in view.statements if s.person_id == inv.person.id]
    if not mine:
        return Reply(message=render.no_statement(week))
    messages = [render.statement_message(s) for s in mine]
    if len(messages) == 1:
        return Reply(message=messages[0])
    parts = [p for m in messages for p in m.parts]  # one statement per currency
    return Reply(message=Message(text=messages[0].text, parts=parts))


def approval_reply(approval: Approval) -> Reply:
    view = approval.view
    if approval.status == "already":
        who = f" by {defang_mentions(view.approved_by)}" if view.approved_by else ""
        when = f" on {view.approved_at:%Y-%m-%d %H:%M} UTC" if view.approved_at else ""
        return Reply.say(f"{view.week} was already approved{who}{when}.")
    if approval.status == "needs_confirmation":
        return Reply(message=render.approval_needs_confirmation(view))
    if approval.status == "changed":
        return Reply(message=render.approval_changed(view, render.summary_chart(view)))
    return Reply(message=render.approved_reply(view))


@command(
    "payouts approve",
    roles=("ops",),
    usage="payouts approve WEEK [--force]",
    summary="approve and lock a week's pay",
)
def approve(inv: Invocation) -> Reply:
    positional, opts = _options(inv.args, flags=("--force",))
    if len(positional) != 1:
        raise InvalidInput("Usage: /hdops payouts approve WEEK [--force] (e.g. last or 2026-W10)")
    week = _week(inv, positional[0])
    approval = approve_week(
        inv.session,
        Actor(inv.person, "chat"),
        week,
        inv.now,
        inv.settings,
        force="--force" in opts,
    )
    return approval_reply(approval)


@command(
    "payouts adjust",
    roles=("ops",),
    usage="payouts adjust PERSON AMOUNT --reason TEXT [--week WEEK] [--currency CUR]",
    summary="book a bonus or correction (default: this week)",
)
def adjust(inv: Invocation) -> Reply:
    positional, opts = _options(inv.args, rest="--reason")
    if len(positional) != 2 or not opts.get("--reason"):
        raise InvalidInput(
            "Usage: /hdops payouts adjust PERSON AMOUNT --reason TEXT [--week WEEK] "
            "[--currency CUR]"
        )
    week = _week(inv, opts.get("--week"), default="this")
    adjustment = add_adjustment(
        inv.session,
        Actor(inv.person, "chat"),
        positional[0],
        positional[1],
        opts["--reason"],
        week,
        inv.now,
        inv.settings,
        currency=opts.get("--currency"),
    )
    person = inv.session.get(Person, adjustment.person_id)
    name = person.display_name if person else positional[0]
    return Reply.say(
        f"Adjustment #{adjustment.id}: {format_money(adjustment.amount, adjustment.currency)} "
        f"{adjustment.currency} "
        f"for {defang_mentions(name)} in {week} — {defang_mentions(adjustment.reason)}"
    )


@command(
    "payouts dispute",
    roles=("contractor",),
    usage="payouts dispute LINE_ID REASON",
    summary="dispute a line of your statement",
)
def dispute(inv: Invocation) -> Reply:
    if len(inv.args) < 2:
        raise InvalidInput("Usage: /hdops payouts dispute LINE_ID REASON")
    line_id = parse_id(inv.args[0], "LINE_ID")
    opened = disputes.open_dispute(
        inv.session, inv.person, line_id, inv.free_text(after=1), inv.now
    )
    return Reply.say(f"Dispute #{opened.id} sent to ops. Their replies appear in its thread.")


@command(
    "payouts disputes",
    roles=("ops",),
    usage="payouts disputes [--week WEEK] [--open]",
    summary="payout disputes and their state",
)
def list_disputes(inv: Invocation) -> Reply:
    positional, opts = _options(inv.args, flags=("--open",))
    if positional:
        raise InvalidInput("Usage: /hdops payouts disputes [--week WEEK] [--open]")
    week = _week(inv, opts["--week"]) if "--week" in opts else None
    found = disputes.list_disputes(inv.session, week, only_open="--open" in opts)
    if not found:
        return Reply.say("No disputes.")
    rows = [
        [
            f"#{d.id}",
            d.week,
            defang_mentions(d.person),
            d.status,
            defang_mentions(d.line)[:60],
            defang_mentions(d.reason)[:80],
        ]
        for d in found
    ]
    table = Table(columns=["Id", "Week", "Contractor", "Status", "Line", "Reason"], rows=rows)
    return Reply(message=Message(text=f"{len(found)} dispute(s)", parts=[table]))
