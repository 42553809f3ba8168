"""Buttons, selects and forms by registry, the way `hdops.commands` does commands.

Every control hdops sends carries an action id (`hd:<verb>:<id>[:<arg>]`, see
`hdops.actions`); a submitted form carries one too. A feature module registers
what each verb does with `@button(verb)` or `@form(verb)`; the core decodes the
id and calls `run_button` / `run_form`, so a feature (or a platform adapter)
adds a verb without touching the core's routing. A handler gets a `Context`
and re-checks in the database that the person may act on the id: an action id
is never trusted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from hdops.actions import Action
from hdops.chat import Reply
from hdops.config import Settings
from hdops.errors import UnknownControl
from hdops.store.orm import Person

UNKNOWN_BUTTON = "That button is not recognised (it may be from an old version)."
UNKNOWN_FORM = "That form is not recognised (it may be from an old version)."


@dataclass
class Context:
    """One button press, select choice or form submission."""

    session: Session
    person: Person
    act: Action
    now: datetime
    settings: Settings
    key: str  # idempotency key: the platform's event id (or a fresh one)
    values: list[str] = field(default_factory=list)  # chosen in a select
    fields: dict[str, str] = field(default_factory=dict)  # a form's inputs


Handler = Callable[[Context], Reply]

_BUTTONS: dict[str, Handler] = {}
_FORMS: dict[str, Handler] = {}


def _register(table: dict[str, Handler], verbs: tuple[str, ...]) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for verb in verbs:
            if verb in table:
                raise ValueError(f"verb {verb!r} registered twice")
            table[verb] = fn
        return fn

    return register


def button(*verbs: str) -> Callable[[Handler], Handler]:
    """Register the handler of a button or select with these verbs."""
    return _register(_BUTTONS, verbs)


def form(*verbs: str) -> Callable[[Handler], Handler]:
    """Register the handler of a form submission with these verbs."""
    return _register(_FORMS, verbs)


def run_button(ctx: Context) -> Reply:
    handler = _BUTTONS.get(ctx.act.verb)
    if handler is None:
        raise UnknownControl(UNKNOWN_BUTTON)
    return handler(ctx)


def run_form(ctx: Context) -> Reply:
    handler = _FORMS.get(ctx.act.verb)
    if handler is None:
        raise UnknownControl(UNKNOWN_FORM)
    return handler(ctx)


def verbs() -> tuple[frozenset[str], frozenset[str]]:
    """The registered button verbs and form verbs."""
    return frozenset(_BUTTONS), frozenset(_FORMS)


# The feature modules register themselves when imported. They import this module
# (for the decorator), so they are imported last, once everything above exists:
# eagerly, at import, never lazily on first use — a lazy load raced between the
# worker threads that run the core (one thread saw the registry half filled and
# answered "Unknown command").
from hdops.interactions import clarifications as _clarifications  # noqa: E402, F401
from hdops.interactions import payouts as _payouts  # noqa: E402, F401
from hdops.interactions import shifts as _shifts  # noqa: E402, F401
from hdops.interactions import tasks as _tasks  # noqa: E402, F401
