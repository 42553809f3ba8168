"""Usage lines as the one description of a command's parameters: parsed at import,
turned into Discord's typed `/hdops` options, and typed values turned back into the
words the command reads — the same words a person would have typed on Slack."""

from __future__ import annotations

import itertools
import shlex
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.discord.commands import command_payload, read
from hdops.commands import CommandSpec, Invocation, commands, parse
from hdops.commands.usage import Param, UsageError, parse_usage, words_for
from tests.fakes.discord.app_commands import check_commands

pytestmark = pytest.mark.timeout(120)

SPECS = commands()
# A word a person may give (no leading "-": that would read as an option).
WORD = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=20,
).filter(lambda w: not w.startswith("-"))
TEXT = (
    st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
        min_size=1,
        max_size=200,
    )
    .map(str.strip)
    .filter(lambda t: bool(t) and not t.startswith("-"))
)


def _value(param: Param) -> st.SearchStrategy[Any]:
    if param.kind in ("id", "number"):
        return st.integers(1, 10**6)
    if param.kind == "switch":
        return st.booleans()
    if param.kind == "choice":
        return st.sampled_from(param.choices)
    if param.kind == "text":
        return TEXT
    return WORD


@st.composite
def typed_command(draw: st.DrawFn) -> tuple[CommandSpec, dict[str, Any]]:
    spec = draw(st.sampled_from(SPECS))
    values: dict[str, Any] = {}
    for p in spec.params:
        if p.required or draw(st.booleans()):
            values[p.name] = draw(_value(p))
    # an optional positional left out must not be followed by a given one
    positional = [p for p in spec.params if p.flag is None]
    for before, after in itertools.pairwise(positional):
        if before.name not in values:
            values.pop(after.name, None)
    return spec, values


@settings(max_examples=300, deadline=None)
@given(typed_command())
def test_typed_values_become_the_words_the_command_reads(
    typed: tuple[CommandSpec, dict[str, Any]],
) -> None:
    spec, values = typed
    text = words_for(spec.words, spec.params, values)
    found, args = parse(text)
    assert found is spec
    inv = Invocation(None, None, args, text, None, None, "discord", set(), spec.words)  # type: ignore[arg-type]
    for p in spec.params:
        value = values.get(p.name)
        if value is None or value is False:
            continue
        if p.flag is not None:
            if p.kind == "switch":
                assert p.flag in args
            else:
                assert args[args.index(p.flag) + 1] == str(value)
        elif p.kind == "text":
            given_before = sum(1 for q in spec.params if q.flag is None and q is not p)
            assert inv.free_text(after=given_before) == value
        else:
            assert str(value) in args


def test_every_command_is_a_valid_discord_command() -> None:
    payload = command_payload()
    assert check_commands([payload]) == []
    runnable = {o["name"] for o in payload["options"]}
    assert {"next", "shift", "payouts", "text", "tz"} <= runnable


def test_an_interaction_reads_back_as_words_with_members_as_identities() -> None:
    data = {
        "name": "hdops",
        "type": 1,
        "options": [
            {
                "name": "shift",
                "type": 2,
                "options": [
                    {
                        "name": "add",
                        "type": 1,
                        "options": [
                            {"name": "user", "type": 6, "value": "81"},
                            {"name": "date", "type": 3, "value": "2030-01-07"},
                            {"name": "time", "type": 3, "value": "09:00-13:00"},
                            {"name": "tz", "type": 3, "value": "Europe/Paris"},
                        ],
                    }
                ],
            }
        ],
    }
    assert read(data).text() == "shift add discord:81 2030-01-07 09:00-13:00 --tz Europe/Paris"
    mine = {"name": "mine", "type": 5, "value": True}
    show = {"name": "show", "type": 1, "options": [mine]}
    bare = {
        "name": "hdops",
        "type": 1,
        "options": [{"name": "payouts", "type": 2, "options": [show]}],
    }
    assert read(bare).text() == "payouts --mine"
    words = {"name": "command", "type": 3, "value": "next"}
    typed = {
        "name": "hdops",
        "type": 1,
        "options": [{"name": "text", "type": 1, "options": [words]}],
    }
    assert read(typed).text() == "next"
    with pytest.raises(LookupError):
        read({"name": "hdops", "options": [{"name": "gone", "type": 1, "options": []}]})


def test_free_text_with_an_apostrophe_is_a_question_not_an_error() -> None:
    spec, args = parse("/hdops ask don't they tie?")
    assert spec.words == ("ask",) and args == ["don't", "they", "tie?"]
    with pytest.raises(Exception, match="Could not read"):
        parse("shift list 'alice")  # no free text: quoting mistakes are reported


@pytest.mark.parametrize(
    ("usage", "problem"),
    [
        ("x [--week WEEK", "unclosed"),
        ("x DATE [DATE]", "share a name"),
        ("x TEXT DATE", "last word"),
        ("y DATE", "does not start"),
    ],
)
def test_a_usage_line_the_grammar_cannot_read_fails_loudly(usage: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        parse_usage(("x",), usage)


def test_parameters_are_read_from_the_usage_line() -> None:
    params = parse_usage(
        ("shift", "add"),
        "shift add @user DATE HH:MM-HH:MM [--weekly N] [--role contractor|researcher]",
    )
    assert [(p.name, p.kind, p.required, p.flag) for p in params] == [
        ("user", "member", True, None),
        ("date", "date", True, None),
        ("time", "time_range", True, None),
        ("weekly", "number", False, "--weekly"),
        ("role", "choice", False, "--role"),
    ]
    assert shlex.split(words_for(("x",), params, {"user": "a b", "weekly": 2})) == [
        "x", "a b", "--weekly", "2",
    ]  # fmt: skip
