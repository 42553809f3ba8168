"""`/hdops` as Discord shows it: subcommands with typed options, built from the core's
command registry (`hdops.commands`), and turned back into the words the core parses.

* **Tree.** A one-word command is a subcommand (`/hdops next`); commands sharing a
  first word form a group (`/hdops shift add`). A command that is also a group's name
  (`payouts`, `checkin`) is that group's `show`/`start` subcommand, since Discord does
  not let a group be run by itself. `/hdops text command:…` takes a command as typed
  on Slack, for anything the typed options do not cover.
* **Options** from each usage line's parameters (`hdops.commands.usage`): a person
  mention is a USER option (Discord's member picker), ids and counts are INTEGERs,
  switches BOOLEANs, choices fixed choices, and projects, people's names, weeks and
  time zones are autocompleted by the core (`Core.suggest`). Amounts stay STRINGs: a
  NUMBER option is a float, and money is never a float.
* **Back to words.** `words_for` rebuilds `/hdops shift add discord:123 2030-01-07
  09:00-13:00 --tz Europe/Paris`; a USER option becomes the member's identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hdops.commands import CommandSpec, commands
from hdops.commands.usage import Param, words_for

SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN, USER = 1, 2, 3, 4, 5, 6
NAME, DESCRIPTION, MAX_STRING = 32, 100, 4000
BARE_NAMES = {"checkin": "start"}  # a group's own command; default "show"
TEXT_COMMAND = "text"
AUTOCOMPLETED = frozenset({"project", "person", "week", "zone"})
OPTION_TYPE = {"member": USER, "id": INTEGER, "number": INTEGER, "switch": BOOLEAN}


@dataclass(frozen=True)
class Typed:
    """What a person ran: the command (None for `/hdops text`) and its option values."""

    spec: CommandSpec | None
    values: dict[str, Any]
    focused: str | None = None  # the option being typed (autocomplete)

    def text(self) -> str:
        """The command as words for the core."""
        if self.spec is None:
            return str(self.values.get("command") or "help")
        return words_for(self.spec.words, self.spec.params, self.values)


def command_payload() -> dict[str, Any]:
    """The `/hdops` application command (bulk-registered in each configured guild)."""
    top: list[dict[str, Any]] = []
    groups: dict[str, dict[str, Any]] = {}
    for path, spec in _leaves():
        leaf = _sub(path[-1], spec)
        if len(path) == 1:
            top.append(leaf)
            continue
        if path[0] not in groups:
            groups[path[0]] = {
                "type": SUB_COMMAND_GROUP,
                "name": path[0],
                "description": f"{path[0]} commands",
                "options": [],
            }
            top.append(groups[path[0]])
        groups[path[0]]["options"].append(leaf)
    return {
        "name": "hdops",
        "description": "hdops: tasks, questions, shifts and pay",
        "options": [*top, _text_command()],
    }


def read(data: Mapping[str, Any]) -> Typed:
    """The command and values of an APPLICATION_COMMAND (or autocomplete) interaction."""
    options = list(data.get("options") or [])
    path: list[str] = []
    while len(options) == 1 and options[0].get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
        path.append(str(options[0]["name"]))
        options = list(options[0].get("options") or [])
    values: dict[str, Any] = {}
    focused = None
    for option in options:
        name, value = str(option.get("name")), option.get("value")
        if option.get("type") == USER and value is not None:
            value = f"discord:{value}"
        values[name] = value
        if option.get("focused"):
            focused = name
    if path == [TEXT_COMMAND] or not path:
        return Typed(None, {"command": values.get("command")}, focused)
    spec = dict(_leaves()).get(tuple(path))
    if spec is None:
        raise LookupError(f"/hdops {' '.join(path)} is not an hdops command")
    return Typed(spec, values, focused)


def _leaves() -> list[tuple[tuple[str, ...], CommandSpec]]:
    """(Discord path, command) for every command, in registry order."""
    specs = commands()
    groups = {s.words[0] for s in specs if len(s.words) > 1}
    out: list[tuple[tuple[str, ...], CommandSpec]] = []
    for spec in specs:
        if len(spec.words) > 2:
            raise ValueError(f"/hdops {' '.join(spec.words)}: Discord nests two levels at most")
        if len(spec.words) == 1 and spec.words[0] in groups:
            out.append(((spec.words[0], BARE_NAMES.get(spec.words[0], "show")), spec))
        else:
            out.append((spec.words, spec))
    return out


def _sub(name: str, spec: CommandSpec) -> dict[str, Any]:
    return {
        "type": SUB_COMMAND,
        "name": name,
        "description": _fit(spec.summary or spec.usage),
        "options": [_option(p) for p in _ordered(spec.params)],
    }


def _text_command() -> dict[str, Any]:
    return {
        "type": SUB_COMMAND,
        "name": TEXT_COMMAND,
        "description": "type a command as on Slack, e.g. payouts --week last",
        "options": [
            {
                "type": STRING,
                "name": "command",
                "description": "the command's words (empty: help)",
                "required": False,
                "max_length": MAX_STRING,
            }
        ],
    }


def _ordered(params: tuple[Param, ...]) -> list[Param]:
    """Discord lists required options before optional ones."""
    return [p for p in params if p.required] + [p for p in params if not p.required]


def _option(param: Param) -> dict[str, Any]:
    kind = OPTION_TYPE.get(param.kind, STRING)
    option: dict[str, Any] = {
        "type": kind,
        "name": param.name[:NAME],
        "description": _fit(param.hint),
        "required": param.required,
    }
    if kind == INTEGER:
        option["min_value"] = 1
    if kind == STRING:
        option["max_length"] = MAX_STRING if param.kind == "text" else DESCRIPTION
        if param.kind == "choice":
            option["choices"] = [{"name": c, "value": c} for c in param.choices]
        elif param.kind in AUTOCOMPLETED:
            option["autocomplete"] = True
    return option


def _fit(text: str) -> str:
    return text if len(text) <= DESCRIPTION else text[: DESCRIPTION - 1] + "…"
