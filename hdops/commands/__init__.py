"""The one command layer every front end uses: parse → check role → call a
service → render a reply.

Slack, Discord, the local chat and tests all hand the raw text after `/hdops`
to `run_command`. Feature modules register their commands with `@command`, so a
command added later needs no platform code at all.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from hdops.chat import Reply
from hdops.commands.usage import Param, parse_usage
from hdops.config import Settings
from hdops.domain.people import Role
from hdops.errors import InvalidInput, PermissionDenied
from hdops.services.people import roles_of
from hdops.store.orm import Person

MAX_COMMAND_CHARS = 4000


@dataclass
class Invocation:
    """One command call: who, what words, and the context to run it in."""

    session: Session
    person: Person
    args: list[str]
    raw: str
    now: datetime
    settings: Settings
    platform: str
    roles: set[str] = field(default_factory=set)
    spec_words: tuple[str, ...] = ()

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    def free_text(self, after: int = 0) -> str:
        """The command's free text as typed (quotes, apostrophes and spacing kept):
        the raw text after the command's words and its first `after` argument words."""
        text = _bare(self.raw).strip()
        words = len(self.spec_words) + after
        for _ in range(words):
            parts = text.split(None, 1)
            text = parts[1] if len(parts) > 1 else ""
        return text.strip()


Handler = Callable[[Invocation], Reply]


@dataclass(frozen=True)
class CommandSpec:
    words: tuple[str, ...]
    handler: Handler
    roles: tuple[Role, ...]  # empty: anyone registered
    usage: str
    summary: str
    params: tuple[Param, ...] = ()

    @property
    def free_text(self) -> bool:
        """Does the command end in free text (`ask TEXT`), read as typed?"""
        positional = [p for p in self.params if p.flag is None]
        return bool(positional) and positional[-1].kind == "text"


_REGISTRY: dict[tuple[str, ...], CommandSpec] = {}


def command(
    words: str, *, roles: tuple[Role, ...] = (), usage: str = "", summary: str = ""
) -> Callable[[Handler], Handler]:
    key = tuple(words.split())

    def register(fn: Handler) -> Handler:
        line = usage or words
        _REGISTRY[key] = CommandSpec(key, fn, roles, line, summary, parse_usage(key, line))
        return fn

    return register


def commands() -> list[CommandSpec]:
    return sorted(_REGISTRY.values(), key=lambda c: c.words)


def _bare(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_COMMAND_CHARS:
        raise InvalidInput(f"That command is too long (at most {MAX_COMMAND_CHARS} characters).")
    return text[len("/hdops") :] if text.startswith("/hdops") else text


def command_spec(words: str) -> CommandSpec | None:
    """The command called exactly `words` ("shift add"), if there is one."""
    return _REGISTRY.get(tuple(words.lower().split()))


def split_words(text: str) -> list[str]:
    try:
        return shlex.split(_bare(text))
    except ValueError as exc:
        raise InvalidInput(f"Could not read that command: {exc}.") from None


def parse(text: str) -> tuple[CommandSpec, list[str]]:
    """The command and its argument words. Words are shell-quoted (`--reason "two
    words"`), except that a command ending in free text (`ask TEXT`) takes the text as
    typed when quoting cannot read it: "ask don't tie?" is a question, not an error."""
    try:
        return resolve(split_words(text))
    except InvalidInput:
        spec, rest = resolve(_bare(text).split())
        if not spec.free_text:
            raise
        # the words before the text one by one (`'*'` is `*`), the text as it is
        before = sum(1 for p in spec.params if p.flag is None) - 1
        head: list[str] = []
        for word in rest[:before]:
            try:
                head += shlex.split(word)
            except ValueError:
                head.append(word)
        return spec, head + rest[before:]


def resolve(words: list[str]) -> tuple[CommandSpec, list[str]]:
    lowered = [w.lower() for w in words]
    for n in range(min(3, len(words)), 0, -1):
        spec = _REGISTRY.get(tuple(lowered[:n]))
        if spec is not None:
            return spec, words[n:]
    if not words:
        return _REGISTRY[("help",)], []
    group = [c for c in _REGISTRY.values() if c.words[0] == lowered[0]]
    if group:
        usages = "; ".join(f"/hdops {c.usage}" for c in sorted(group, key=lambda c: c.words))
        raise InvalidInput(f"Unknown `{' '.join(words[:2])}`. Try: {usages}")
    raise InvalidInput(f"Unknown command `{words[0]}`. Type /hdops help for the list.")


def run_command(
    session: Session,
    person: Person,
    text: str,
    now: datetime,
    settings: Settings,
    platform: str,
) -> Reply:
    spec, args = parse(text)
    held = roles_of(session, person.id)
    if spec.roles and not held & set(spec.roles):
        need = " or ".join(spec.roles)
        words = " ".join(spec.words)
        raise PermissionDenied(
            f"Only {need} can use /hdops {words}.", actor_id=person.id, subject=f"/hdops {words}"
        )
    inv = Invocation(session, person, args, text, now, settings, platform, held, spec.words)
    return spec.handler(inv)


# The feature modules register themselves when imported. They import this module
# (for the decorator), so they are imported last, once everything above exists:
# eagerly, at import, never lazily on first use — a lazy load raced between the
# worker threads that run the core (one thread saw the registry half filled and
# answered "Unknown command").
from hdops.commands import basics as _basics  # noqa: E402, F401
from hdops.commands import clarifications as _clarifications  # noqa: E402, F401
from hdops.commands import me as _me  # noqa: E402, F401
from hdops.commands import payouts as _payouts  # noqa: E402, F401
from hdops.commands import projects as _projects  # noqa: E402, F401
from hdops.commands import review as _review  # noqa: E402, F401
from hdops.commands import roles as _roles  # noqa: E402, F401
from hdops.commands import shifts as _shifts  # noqa: E402, F401
