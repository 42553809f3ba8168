"""Application commands as Discord checks them: when a bot registers them, and when a
person runs one in Discord's client (which only lets them send what is defined).

From Discord's documentation (Application Commands: "Application Command Naming",
"Application Command Option Structure", "Autocomplete", limits): names 1–32 characters,
lower case, letters, digits, `-` and `_`; descriptions 1–100; at most 25 options and 25
choices; required options before optional ones; a group holds only subcommands and a
subcommand no subcommands; choices and autocomplete not both; choice names 1–100 and
string values ≤ 100; all names, descriptions and choice values of a command together
≤ 4000 characters; 100 commands of a type per guild. An autocomplete answer: ≤ 25
choices, each name 1–100, its value of the option's type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .limits import FormError

SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN, USER = 1, 2, 3, 4, 5, 6
NUMBER = 10
OPTION_KINDS = frozenset(range(1, 12))
NAME = re.compile(r"^[-_\w]{1,32}$")
COMMANDS_MAX, OPTIONS_MAX, CHOICES_MAX, TEXT_MAX, TOTAL_MAX = 100, 25, 25, 100, 4000
STRING_OPTION_MAX = 6000


def check_commands(body: Any) -> list[FormError]:
    """Problems with a bulk overwrite of application commands."""
    if not isinstance(body, list):
        return [FormError((), "BASE_TYPE_ARRAY", "Must be an array")]
    errors: list[FormError] = []
    if len(body) > COMMANDS_MAX:
        errors.append(FormError((), "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."))
    names = [c.get("name") for c in body if isinstance(c, Mapping)]
    if len(set(names)) != len(names):
        errors.append(FormError((), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Duplicate names"))
    for i, command in enumerate(body):
        if not isinstance(command, Mapping):
            errors.append(FormError((i,), "DICT_TYPE_CONVERT", "Only dictionaries may be used"))
            continue
        errors += _named(command, (i,))
        errors += _options(command.get("options"), (i, "options"), depth=0)
        if _total(command) > TOTAL_MAX:
            errors.append(
                FormError((i,), "APPLICATION_COMMAND_TOO_LARGE", "Command exceeds maximum size")
            )
    return errors


def _named(item: Mapping[str, Any], at: tuple[str | int, ...]) -> list[FormError]:
    errors = []
    name = item.get("name")
    if not isinstance(name, str) or not NAME.match(name) or name != name.lower():
        errors.append(
            FormError((*at, "name"), "APPLICATION_COMMAND_INVALID_NAME", f"bad name {name!r}")
        )
    description = item.get("description")
    if not isinstance(description, str) or not 1 <= len(description) <= TEXT_MAX:
        errors.append(
            FormError(
                (*at, "description"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        )
    return errors


def _options(options: Any, at: tuple[str | int, ...], depth: int) -> list[FormError]:
    if options is None:
        return []
    if not isinstance(options, list):
        return [FormError(at, "BASE_TYPE_ARRAY", "Must be an array")]
    errors: list[FormError] = []
    if len(options) > OPTIONS_MAX:
        errors.append(FormError(at, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))
    names = [o.get("name") for o in options if isinstance(o, Mapping)]
    if len(set(names)) != len(names):
        errors.append(FormError(at, "APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME", "Duplicate"))
    kinds = [o.get("type") for o in options if isinstance(o, Mapping)]
    nested = [k in (SUB_COMMAND, SUB_COMMAND_GROUP) for k in kinds]
    if any(nested) and not all(nested):
        errors.append(
            FormError(at, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Mixed subcommands")
        )
    optional_seen = False
    for j, option in enumerate(options):
        here = (*at, j)
        if not isinstance(option, Mapping):
            errors.append(FormError(here, "DICT_TYPE_CONVERT", "Only dictionaries may be used"))
            continue
        errors += _named(option, here)
        kind = option.get("type")
        if kind not in OPTION_KINDS:
            errors.append(FormError((*here, "type"), "ENUM_TYPE_COERCE", f"bad type {kind!r}"))
        if kind == SUB_COMMAND_GROUP and depth != 0:
            errors.append(FormError(here, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "nesting"))
        if kind == SUB_COMMAND and depth > 1:
            errors.append(FormError(here, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "nesting"))
        if kind == SUB_COMMAND_GROUP:
            inner = option.get("options") or []
            if any(isinstance(o, Mapping) and o.get("type") != SUB_COMMAND for o in inner):
                errors.append(
                    FormError(here, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "group content")
                )
        if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
            errors += _options(option.get("options"), (*here, "options"), depth + 1)
            continue
        if option.get("required"):
            if optional_seen:
                errors.append(
                    FormError(
                        here,
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
                )
        else:
            optional_seen = True
        errors += _choices(option, here)
    return errors


def _choices(option: Mapping[str, Any], at: tuple[str | int, ...]) -> list[FormError]:
    errors: list[FormError] = []
    choices = option.get("choices")
    if choices and option.get("autocomplete"):
        errors.append(FormError(at, "APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE", "not both"))
    if choices is not None:
        errors += choice_list(choices, (*at, "choices"), option.get("type"))
    for key in ("min_length", "max_length"):
        value = option.get(key)
        if value is not None and not 0 <= int(value) <= STRING_OPTION_MAX:
            errors.append(FormError((*at, key), "NUMBER_TYPE_MAX", "Must be 0 to 6000"))
    return errors


def choice_list(choices: Any, at: tuple[str | int, ...], kind: Any) -> list[FormError]:
    """Choices of an option, or an autocomplete answer's."""
    if not isinstance(choices, list):
        return [FormError(at, "BASE_TYPE_ARRAY", "Must be an array")]
    errors: list[FormError] = []
    if len(choices) > CHOICES_MAX:
        errors.append(FormError(at, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))
    for k, choice in enumerate(choices):
        here = (*at, k)
        name = choice.get("name") if isinstance(choice, Mapping) else None
        if not isinstance(name, str) or not 1 <= len(name) <= TEXT_MAX:
            errors.append(FormError((*here, "name"), "BASE_TYPE_BAD_LENGTH", "1 to 100"))
        value = choice.get("value") if isinstance(choice, Mapping) else None
        if kind == STRING and not (isinstance(value, str) and len(value) <= TEXT_MAX):
            errors.append(FormError((*here, "value"), "BASE_TYPE_BAD_LENGTH", "0 to 100"))
        if kind == INTEGER and not (isinstance(value, int) and not isinstance(value, bool)):
            errors.append(FormError((*here, "value"), "NUMBER_TYPE_COERCE", "not an integer"))
    return errors


def _total(item: Mapping[str, Any]) -> int:
    size = len(str(item.get("name") or "")) + len(str(item.get("description") or ""))
    for choice in item.get("choices") or []:
        size += len(str(choice.get("name") or "")) + len(str(choice.get("value") or ""))
    for option in item.get("options") or []:
        if isinstance(option, Mapping):
            size += _total(option)
    return size


def leaf_options(command: Mapping[str, Any], path: Sequence[str]) -> list[dict[str, Any]]:
    """The options defined at `path` (subcommand names) of a registered command; a
    LookupError if Discord's client would not offer that path."""
    options = list(command.get("options") or [])
    for part in path:
        found = next((o for o in options if o.get("name") == part), None)
        if found is None or found.get("type") not in (SUB_COMMAND, SUB_COMMAND_GROUP):
            raise LookupError(f"/{command['name']} has no subcommand {part!r} at {list(path)}")
        options = list(found.get("options") or [])
    if any(o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in options):
        raise LookupError(f"/{command['name']} {' '.join(path)} needs a subcommand")
    return options


def check_typed(defined: list[dict[str, Any]], typed: Mapping[str, Any]) -> None:
    """What Discord's client lets a person send: defined options only, of their type,
    required ones present, within choices and lengths. A ValueError otherwise."""
    by_name = {o["name"]: o for o in defined}
    for name, value in typed.items():
        option = by_name.get(name)
        if option is None:
            raise ValueError(f"no option {name!r}: the client offers {sorted(by_name)}")
        kind = option.get("type")
        if kind == USER:
            if not hasattr(value, "id"):
                raise ValueError(f"option {name!r} takes a member")
            continue
        expected = {STRING: str, INTEGER: int, BOOLEAN: bool, NUMBER: (int, float)}.get(kind)
        if expected is not None and not isinstance(value, expected):
            raise ValueError(f"option {name!r} takes type {kind}, not {value!r}")
        choices = option.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(f"option {name!r} must be one of its choices, not {value!r}")
        if isinstance(value, str) and len(value) > int(option.get("max_length", 6000)):
            raise ValueError(f"option {name!r} is at most {option['max_length']} characters")
        if kind == INTEGER and "min_value" in option and value < option["min_value"]:
            raise ValueError(f"option {name!r} is at least {option['min_value']}")
    missing = [n for n, o in by_name.items() if o.get("required") and n not in typed]
    if missing:
        raise ValueError(f"required options missing: {missing}")
