"""A command's parameters, read from its usage line.

The usage line each command registers (`shift add @user DATE HH:MM-HH:MM [--weekly N]`)
is what people read in `/hdops help` and in every "Usage:" error; it is also the one
description of the command's parameters. Platforms with typed command forms (Discord's
slash-command options, autocomplete) build them from `Param`s parsed here, and turn the
typed values back into the words the command parses (`words_for`), so a command added
or changed in `hdops/commands` needs no platform code.

Grammar of a usage line after the command words: `@name` a person mention; UPPER_CASE
a placeholder (its kind from `KINDS`); `a|b|c` a choice; `--flag VALUE` an option with
a value, `--flag` alone a yes/no switch; `[...]` optional; `(...)` a note for people.
A line this grammar cannot read fails at import, loudly.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from hdops.domain.people import ROLES

Kind = Literal[
    "member", "person", "project", "date", "time", "time_range", "week", "zone", "id",
    "number", "amount", "text", "word", "choice", "switch",
]  # fmt: skip

# What each placeholder is. A placeholder not listed is a plain word.
KINDS: dict[str, Kind] = {
    "PERSON": "person",
    "PROJECT": "project",
    "NAME": "project",
    "DATE": "date",
    "HH:MM": "time",
    "HH:MM-HH:MM": "time_range",
    "WEEK": "week",
    "TZ": "zone",
    "ZONE": "zone",
    "SHIFT_ID": "id",
    "LINE_ID": "id",
    "N": "number",
    "AMOUNT": "amount",
    "TEXT": "text",
    "REASON": "text",
}
HINTS: dict[Kind, str] = {
    "member": "who",
    "person": "who (a name)",
    "project": "project name",
    "date": "date, YYYY-MM-DD",
    "time": "time, HH:MM",
    "time_range": "time, HH:MM-HH:MM (24 h)",
    "week": "week: last, this, next or YYYY-Www",
    "zone": "time zone, e.g. Europe/London",
    "id": "id number",
    "number": "a whole number",
    "amount": "amount, e.g. 12.50 or -3",
    "text": "text",
    "word": "value",
    "choice": "one of the choices",
    "switch": "yes to turn it on",
}
# What a positional choice is called where options have names (`prefer platform:slack`).
CHOICE_NAMES: dict[frozenset[str], str] = {
    frozenset({"slack", "discord", "console", "last"}): "platform",
    frozenset(ROLES): "role",
}
_WEEK_WORDS = re.compile(r"^(this|next|last)(\|(this|next|last|YYYY-Www))*$")


class UsageError(ValueError):
    """A usage line the grammar cannot read (a programming error, raised at import)."""


@dataclass(frozen=True)
class Param:
    """One parameter: `name` is lower-case (an option name on typed platforms)."""

    name: str
    kind: Kind
    required: bool
    flag: str | None = None  # "--week" for an option; None for a positional word
    choices: tuple[str, ...] = ()

    @property
    def hint(self) -> str:
        return HINTS[self.kind]


def parse_usage(words: tuple[str, ...], usage: str) -> tuple[Param, ...]:
    """The parameters of the command `words` from its usage line."""
    head = usage.split()[: len(words)]
    if [w.lower() for w in head] != list(words):
        raise UsageError(f"usage {usage!r} does not start with {' '.join(words)!r}")
    rest = re.sub(r"\([^)]*\)", " ", usage).split()[len(words) :]
    params: list[Param] = []
    i = 0
    while i < len(rest):
        token, required = rest[i], True
        if token.startswith("["):
            group = [token]
            while not group[-1].endswith("]"):
                i += 1
                if i >= len(rest):
                    raise UsageError(f"unclosed [ in {usage!r}")
                group.append(rest[i])
            inner = " ".join(group)[1:-1].split()
            required = False
        elif token.startswith("--") and i + 1 < len(rest) and rest[i + 1][0] not in "-[@":
            inner = [token, rest[i + 1]]  # `--reason TEXT`: a required option
            i += 1
        else:
            inner = [token]
        params.append(_param(inner, required, usage))
        i += 1
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise UsageError(f"two parameters share a name in {usage!r}")
    positional = [p for p in params if p.flag is None]
    if any(p.kind == "text" for p in positional[:-1]):
        raise UsageError(f"free text must be the last word in {usage!r}")
    return tuple(params)


def _param(inner: list[str], required: bool, usage: str) -> Param:
    if inner[0].startswith("--"):
        flag = inner[0]
        name = flag[2:]
        if len(inner) == 1:
            return Param(name, "switch", False, flag)
        if len(inner) != 2:
            raise UsageError(f"cannot read {' '.join(inner)!r} in {usage!r}")
        kind, choices = _placeholder(inner[1])
        return Param(name, kind, required, flag, choices)
    if len(inner) != 1:
        raise UsageError(f"cannot read {' '.join(inner)!r} in {usage!r}")
    token = inner[0]
    if token.startswith("@"):
        return Param(token[1:].lower(), "member", required)
    kind, choices = _placeholder(token)
    if kind == "choice":
        name = CHOICE_NAMES.get(frozenset(choices), "choice")
    elif kind in ("time", "time_range"):
        name = "time"
    else:
        name = token.lower()
    return Param(name, kind, required, None, choices)


def _placeholder(token: str) -> tuple[Kind, tuple[str, ...]]:
    if _WEEK_WORDS.match(token):
        return "week", ()
    if "|" in token:
        return "choice", tuple(token.split("|"))
    if token == "ROLE":
        return "choice", ROLES
    return KINDS.get(token, "word"), ()


def words_for(
    words: tuple[str, ...], params: tuple[Param, ...], values: Mapping[str, object]
) -> str:
    """The command text for typed `values` (by param name): what a person would have
    typed. Positional words in order, quoted; options after them; a free-text last word
    goes last, as typed (the command reads it from the raw text)."""
    unknown = set(values) - {p.name for p in params}
    if unknown:
        raise UsageError(f"no parameter {sorted(unknown)} in /hdops {' '.join(words)}")
    out = list(words)
    tail: str | None = None
    for p in params:
        value = values.get(p.name)
        if value is None or value == "" or value is False:
            continue
        if p.flag is not None:
            out.append(p.flag if p.kind == "switch" else f"{p.flag} {shlex.quote(str(value))}")
        elif p.kind == "text":
            tail = str(value)
        else:
            out.append(shlex.quote(str(value)))
    return " ".join(out + ([tail] if tail is not None else []))
