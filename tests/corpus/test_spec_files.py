"""Hostile project specs through `hdops project create` and `hdops project update`.

Small files are committed in `files/specs/` (binary ones too: a NUL byte, UTF-16,
Latin-1); the big ones — a billion-laughs YAML bomb, a 10 MB line, 100 000 keys,
nesting 100 000 levels deep — are written at test time. Each must end in one
`error:` naming what is wrong, fast, with nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.corpus.conftest import FILES, Cli, HostileCase

# The CLI cases share one seeded database of the store under test (conftest).
pytestmark = pytest.mark.store

SPECS = FILES / "specs"

# (file in files/specs, what it attacks, what the error must name)
COMMITTED = [
    ("unclosed_flow.yaml", "malformed YAML: an unclosed flow mapping", "not valid YAML"),
    ("tab_indent.yaml", "malformed YAML: a tab used as indentation", "(line 9)"),
    ("python_tag.yaml", "code execution through a python/object tag", "constructor for the tag"),
    ("duplicate_key.yaml", "a second pay: hidden below the first", "'pay' is written twice"),
    ("alias_cycle.yaml", "an alias cycle (infinitely deep)", "levels deep"),
    ("top_level_list.yaml", "a list where the spec mapping belongs", "must be a YAML mapping"),
    ("empty.yaml", "an empty file", "must be a YAML mapping"),
    ("wrong_types.yaml", "wrong types: a list title, a word overlap", "overlap"),
    ("pay_float_exponent.yaml", "money as an exponent float (1.0e+3)", "pay.per_task"),
    ("pay_float_beyond_precision.yaml", "money a float would round", "pay.per_task"),
    ("pay_nan.yaml", "money NaN", "pay.per_task"),
    ("pay_negative.yaml", "negative money", "pay.per_task"),
    ("pay_overflow.yaml", "money 1e309", "pay.per_task"),
    ("pay_sub_cent_precision.yaml", "money finer than 4 decimals", "pay.per_task"),
    ("overlap_beyond_64_bits.yaml", "an integer beyond 64 bits", "overlap"),
    ("name_path_traversal.yaml", "a project name that is a path", "name:"),
    ("name_sql.yaml", "a project name that is SQL", "name:"),
    ("researcher_sql.yaml", "a researcher identity that is SQL", "researchers"),
    ("task_type_code.yaml", "a task type that is Python code", "task.type"),
    ("instructions_outside_folder.yaml", "instructions read from outside", "outside the spec"),
    ("nul_byte.yaml", "a NUL byte in the text", "control characters"),
    ("utf16_bom.yaml", "wrong encoding: UTF-16 with a BOM", "not UTF-8"),
    ("latin1.yaml", "wrong encoding: Latin-1", "not UTF-8"),
]

HEAD = "name: helpful-pairs\ntitle: Helpfulness comparisons\n"
TAIL = 'overlap: 2\npay: {per_task: "0.40", currency: USD}\ninstructions: Read.\n'


def _laughs(where: str) -> str:
    """The billion laughs: nine aliases of nine, 9**9 strings if ever expanded."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "\n".join(lines) + "\n" + where


GENERATED: dict[str, tuple[Callable[[], str], str]] = {
    "YAML bomb in researchers": (
        lambda: HEAD + TAIL + "task: {type: pairwise, fields: [a]}\n" + _laughs("researchers: *l8"),
        "researchers",
    ),
    "YAML bomb in task.fields": (
        lambda: HEAD + TAIL + _laughs("task: {type: pairwise, fields: *l8}"),
        "task",
    ),
    "10 MB line": (lambda: HEAD.replace("comparisons", "x" * 10_000_000) + TAIL, "larger than"),
    "100 000 unknown keys": (
        lambda: HEAD + TAIL + "".join(f"k{i}: 1\n" for i in range(100_000)),
        "larger than",
    ),
    "20 000 unknown keys, listed 50 at most": (
        lambda: HEAD + TAIL + "".join(f"k{i}: 1\n" for i in range(20_000)),
        "… and",
    ),
    "flow nesting 100 000 deep": (
        lambda: HEAD + "task: " + "[" * 100_000 + "]" * 100_000,
        "nesting",
    ),
    "block nesting 60 deep": (
        lambda: HEAD + "task:\n" + "".join(f"{'  ' * (i + 1)}k{i}:\n" for i in range(60)),
        "levels deep",
    ),
}

COMMANDS = ("create", "update")


def test_every_committed_spec_file_is_a_case() -> None:
    assert sorted(p.name for p in SPECS.iterdir()) == sorted(c[0] for c in COMMITTED)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("name", "attack", "names"), COMMITTED, ids=[f"{c[0]}: {c[1]}" for c in COMMITTED]
)
def test_a_hostile_spec_file_is_refused(
    cli: Cli, hostile: HostileCase, command: str, name: str, attack: str, names: str
) -> None:
    cli.refuses("project", command, str(SPECS / name), names=names)
    hostile.refused()


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("attack", sorted(GENERATED))
def test_a_generated_hostile_spec_is_refused_fast(
    cli: Cli, hostile: HostileCase, tmp_path: Path, command: str, attack: str
) -> None:
    make, names = GENERATED[attack]
    spec = tmp_path / "spec.yaml"
    spec.write_text(make(), encoding="utf-8")
    cli.refuses("project", command, str(spec), names=names)
    hostile.refused()
