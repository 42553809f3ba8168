"""Shift, availability, time-tracking and coverage commands (SPEC §7).

The same words work from Slack, Discord, the local chat and tests; the CLI calls
the same services. Options follow the words (`--weekly 4`, `--tz Europe/Paris`,
`--role researcher`, `--week next`) and may come in any order after them.
"""

from __future__ import annotations

from hdops.chat import Reply
from hdops.commands import Invocation, command
from hdops.errors import InvalidInput
from hdops.render import shifts as render
from hdops.services import checkins
from hdops.services.people import get_person
from hdops.services.shifts import availability as availability_service
from hdops.services.shifts import coverage as coverage_service
from hdops.services.shifts import shifts as svc
from hdops.services.shifts import swaps as swap_service
from hdops.store.orm import Person


def parse_options(
    args: list[str], allowed: tuple[str, ...], usage: str
) -> tuple[list[str], dict[str, str]]:
    """Split `args` into positional words and `--name value` options."""
    positional: list[str] = []
    options: dict[str, str] = {}
    i = 0
    while i < len(args):
        word = args[i]
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            if name not in allowed:
                raise InvalidInput(f"Unknown option {name}. Usage: /hdops {usage}")
            if not eq:
                if i + 1 >= len(args):
                    raise InvalidInput(f"{name} needs a value. Usage: /hdops {usage}")
                value = args[i + 1]
                i += 1
            options[name] = value
        else:
            positional.append(word)
        i += 1
    return positional, options


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, not {value!r}") from None


def _person(inv: Invocation, ref: str) -> Person:
    return get_person(inv.session, ref)


ADD_USAGE = "shift add @user DATE HH:MM-HH:MM [--weekly N] [--tz TZ] [--role contractor|researcher]"


@command("shift add", roles=("ops",), usage=ADD_USAGE, summary="schedule a shift")
def shift_add(inv: Invocation) -> Reply:
    words, opts = parse_options(inv.args, ("--weekly", "--tz", "--role"), ADD_USAGE)
    if len(words) != 3:
        raise InvalidInput(f"Usage: /hdops {ADD_USAGE}")
    person = _person(inv, words[0])
    done = svc.add_shifts(
        inv.session,
        person,
        words[1],
        words[2],
        settings=inv.settings,
        now=inv.now,
        actor=inv.person,
        weekly=_int(opts.get("--weekly", "1"), "--weekly"),
        tz=opts.get("--tz"),
        role=opts.get("--role", "contractor"),
    )
    return render.shifts_added(done.views, done.zone, person.display_name, done.warnings)


LIST_USAGE = "shift list [@user] [--week this|next|YYYY-Www]"


@command("shift list", usage=LIST_USAGE, summary="a week's shifts (contractors: own)")
def shift_list(inv: Invocation) -> Reply:
    words, opts = parse_options(inv.args, ("--week",), LIST_USAGE)
    if len(words) > 1:
        raise InvalidInput(f"Usage: /hdops {LIST_USAGE}")
    person = _person(inv, words[0]) if words else None
    views, zone, title = svc.list_shifts(
        inv.session,
        inv.person,
        settings=inv.settings,
        now=inv.now,
        person=person,
        week=opts.get("--week"),
        everyone=inv.has("ops"),
    )
    return Reply(message=render.shifts_table(views, zone, title))


@command("shift cancel", roles=("ops",), usage="shift cancel SHIFT_ID", summary="cancel a shift")
def shift_cancel(inv: Invocation) -> Reply:
    if len(inv.args) != 1:
        raise InvalidInput("Usage: /hdops shift cancel SHIFT_ID")
    view = svc.cancel_shift(
        inv.session, inv.args[0], settings=inv.settings, now=inv.now, actor=inv.person
    )
    return render.shift_cancelled_reply(view, svc.zone_of(inv.person, inv.settings))


MOVE_USAGE = "shift move SHIFT_ID DATE HH:MM-HH:MM [--tz TZ]"


@command("shift move", roles=("ops",), usage=MOVE_USAGE, summary="give a shift a new time")
def shift_move(inv: Invocation) -> Reply:
    words, opts = parse_options(inv.args, ("--tz",), MOVE_USAGE)
    if len(words) != 3:
        raise InvalidInput(f"Usage: /hdops {MOVE_USAGE}")
    done = svc.move_shift(
        inv.session,
        words[0],
        words[1],
        words[2],
        settings=inv.settings,
        now=inv.now,
        actor=inv.person,
        tz=opts.get("--tz"),
    )
    return render.shift_moved_reply(done.views[0], done.zone, done.warnings)


@command(
    "shift swap",
    roles=("contractor", "researcher", "ops"),
    usage="shift swap SHIFT_ID @other",
    summary="ask someone to take over your shift",
)
def shift_swap(inv: Invocation) -> Reply:
    if len(inv.args) != 2:
        raise InvalidInput("Usage: /hdops shift swap SHIFT_ID @other")
    other = _person(inv, inv.args[1])
    view = swap_service.request_swap(
        inv.session, inv.person, inv.args[0], other, settings=inv.settings, now=inv.now
    )
    return render.swap_asked_reply(view, svc.zone_of(inv.person, inv.settings), other.display_name)


COVERAGE_USAGE = "coverage [--week this|next|YYYY-Www]"


@command("coverage", roles=("ops",), usage=COVERAGE_USAGE, summary="hours per day vs. target")
def coverage(inv: Invocation) -> Reply:
    words, opts = parse_options(inv.args, ("--week",), COVERAGE_USAGE)
    if words:
        raise InvalidInput(f"Usage: /hdops {COVERAGE_USAGE}")
    report = coverage_service.coverage_report(
        inv.session, inv.settings, week=opts.get("--week"), now=inv.now
    )
    return Reply(message=render.coverage_message(report))


AVAIL_USAGE = "availability add DAYS HH:MM-HH:MM (DAYS like mon-fri or sat,sun)"


@command(
    "availability add",
    roles=("contractor",),
    usage=AVAIL_USAGE,
    summary="declare when you can work",
)
def availability_add(inv: Invocation) -> Reply:
    if len(inv.args) != 2:
        raise InvalidInput(f"Usage: /hdops {AVAIL_USAGE}")
    days, span, tz = availability_service.add_availability(
        inv.session, inv.person, inv.args[0], inv.args[1], settings=inv.settings
    )
    return render.availability_added(days, span, tz)


@command(
    "availability list",
    roles=("contractor", "ops"),
    usage="availability list [@user]",
    summary="declared availability (ops: anyone's)",
)
def availability_list(inv: Invocation) -> Reply:
    person = inv.person
    if inv.args:
        if len(inv.args) != 1 or not inv.has("ops"):
            raise InvalidInput("Usage: /hdops availability list")
        person = _person(inv, inv.args[0])
    return render.availability_list(
        person.display_name, availability_service.availability(inv.session, person)
    )


@command(
    "availability clear",
    roles=("contractor",),
    usage="availability clear",
    summary="remove your availability",
)
def availability_clear(inv: Invocation) -> Reply:
    if inv.args:
        raise InvalidInput("Usage: /hdops availability clear")
    return render.availability_cleared(
        availability_service.clear_availability(inv.session, inv.person)
    )


@command("checkin", roles=("contractor",), usage="checkin", summary="start paid time")
def checkin(inv: Invocation) -> Reply:
    done = checkins.check_in(inv.session, inv.person, inv.now)
    zone = svc.zone_of(inv.person, inv.settings)
    if done.already:
        return render.already_checked_in(done.entry.started_at, zone)
    return render.checked_in(done.entry.started_at, zone, done.shift)


FIX_USAGE = "checkin fix HH:MM REASON"


@command(
    "checkin fix",
    roles=("contractor",),
    usage=FIX_USAGE,
    summary="correct the end of a check-in that closed by itself",
)
def checkin_fix(inv: Invocation) -> Reply:
    if len(inv.args) < 2:
        raise InvalidInput(
            f"Usage: /hdops {FIX_USAGE} — when you stopped working (your timezone) and why, "
            "e.g. /hdops checkin fix 17:30 reviewed the guidelines offline"
        )
    fixed = checkins.fix_check_in(
        inv.session,
        inv.person,
        inv.args[0],
        inv.free_text(after=1),
        settings=inv.settings,
        now=inv.now,
    )
    assert fixed.entry.ended_at is not None
    return render.check_in_fixed_reply(fixed.entry.started_at, fixed.entry.ended_at, fixed.zone)


@command("checkout", roles=("contractor",), usage="checkout", summary="stop paid time")
def checkout(inv: Invocation) -> Reply:
    entry = checkins.check_out(inv.session, inv.person, inv.now)
    if entry is None or entry.ended_at is None:
        return render.not_checked_in()
    return render.checked_out(
        entry.started_at, entry.ended_at, svc.zone_of(inv.person, inv.settings)
    )
