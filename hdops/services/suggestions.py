"""Suggestions while a person types a command's parameter (Discord's autocomplete).

Read-only, and never wider than the command itself: a person who may not run the
command gets no suggestions, projects are the ones the person leads (ops: all), and
people's names are offered only to ops, researchers and admins — a contractor typing
a name learns nobody's.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from functools import lru_cache

from sqlalchemy.orm import Session

from hdops.domain.weeks import IsoWeek
from hdops.services import scope
from hdops.services.people import roles_of
from hdops.store import people as people_q
from hdops.store import projects as projects_q
from hdops.store.orm import Person

LIMIT = 25  # Discord shows at most 25 choices
PAST_WEEKS = 8
SEES_NAMES = frozenset({"ops", "researcher", "admin"})


def suggest(
    session: Session,
    person: Person,
    *,
    needs: tuple[str, ...],
    kind: str,
    choices: tuple[str, ...],
    typed: str,
    now: datetime,
    ops_tz: str,
) -> list[str]:
    """Up to `LIMIT` values of a parameter of kind `kind` (see
    `hdops.commands.usage.Kind`) that contain `typed` (any case), for a command that
    `needs` one of these roles (empty: anyone registered)."""
    held = roles_of(session, person.id)
    if needs and not held & set(needs):
        return []
    typed = typed.strip()[:100]
    if kind == "project":
        within = scope.visible_project_ids(session, person)
        return projects_q.names_like(session, typed, within, LIMIT)
    if kind == "person":
        return people_q.names_like(session, typed, LIMIT) if held & SEES_NAMES else []
    if kind == "week":
        return _matching(_weeks(now, ops_tz), typed)
    if kind == "zone":
        return _matching(_zones(), typed)
    if kind == "choice":
        return _matching(list(choices), typed)
    return []


def _weeks(now: datetime, tz: str) -> list[str]:
    current = IsoWeek.containing(now, tz)
    recent = [str(current.shift(-n)) for n in range(2, PAST_WEEKS + 1)]
    return ["last", "this", "next", *recent]


@lru_cache(maxsize=1)
def _zones() -> list[str]:
    return sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")


def _matching(values: list[str], typed: str) -> list[str]:
    """Values starting with `typed` first, then those containing it."""
    low = typed.lower()
    starts = [v for v in values if v.lower().startswith(low)]
    contains = [v for v in values if low in v.lower() and v not in starts]
    return (starts + contains)[:LIMIT]
