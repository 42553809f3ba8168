"""Hostile item files through `hdops items import` (with and without
`--skip-invalid` where a file has nothing valid to skip to).

Small files are committed in `files/items/` (binary ones too); the big ones — a
10 MB line, a 10 MB CSV cell, 40 MB without a newline, JSON nested 100 000 deep,
100 000 bad lines — are
written at test time. Formula cells are not refused: they are data, stored as
text and neutralised when exported (the last test).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bots.cli import app
from tests.corpus.conftest import FILES, Cli, HostileCase

# The CLI cases share one seeded database of the store under test (conftest).
pytestmark = pytest.mark.store

ITEMS = FILES / "items"
LINE = json.dumps({"id": "c-1", "data": {"prompt": "p", "response_a": "x", "response_b": "y"}})

# (file in files/items, what it attacks, what the error must name)
COMMITTED = [
    ("not_json.jsonl", "JSON without quotes", "not valid JSON"),
    ("nul_in_string.jsonl", "a NUL byte inside a string", "control character"),
    ("nul_after_line.jsonl", "a NUL byte after the object", "not valid JSON"),
    ("utf16_bom.jsonl", "wrong encoding: UTF-16 with a BOM", "UTF-16"),
    ("latin1.jsonl", "wrong encoding: Latin-1", "not valid UTF-8"),
    ("wrong_types.jsonl", "wrong types: a number id, a list of data, null fields", "line 2"),
    ("top_level_array.jsonl", "an array where an item belongs", "must be a JSON object"),
    ("nan_value.jsonl", "NaN in JSON", "NaN"),
    ("huge_integer.jsonl", "a 5000-digit integer", "digits"),
    ("duplicate_id.jsonl", "one id twice in a file", "already on line 1"),
    ("gold_not_a_choice.jsonl", "a gold answer outside the choices", "gold.choice"),
    ("id_too_long.jsonl", "an id of 5000 characters", "1-200 characters"),
    ("lone_surrogate.jsonl", "an unpaired UTF-16 surrogate", "surrogate"),
    ("one_bad_line_among_good.jsonl", "a partial import", "nothing was imported"),
    ("wrong_suffix.txt", "a file of no known format", ".jsonl or .csv"),
    ("empty.jsonl", "an empty file", "no items"),
    ("csv_unterminated_quote.csv", "a quoted newline never closed", "expected 4 cells"),
    ("csv_nul.csv", "a NUL byte in a cell", "NUL"),
    ("csv_missing_columns.csv", "a header without the task's fields", "missing column"),
    ("csv_repeated_header.csv", "a column named twice", "repeated column"),
    ("csv_ragged_row.csv", "a row with extra (formula) cells", "expected 4 cells"),
    ("csv_utf16.csv", "wrong encoding: UTF-16 CSV", "UTF-16"),
    ("csv_formula_gold.csv", "a formula as the gold answer", "gold"),
    ("csv_latin1.csv", "wrong encoding: Latin-1 CSV", "not valid UTF-8"),
]

GENERATED: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "10 MB line": (
        "big.jsonl",
        lambda: LINE.replace('"p"', '"' + "x" * 10_000_000 + '"').encode() + b"\n",
        "at most 100000 characters",
    ),
    "10 MB CSV cell": (
        "big.csv",
        lambda: b"id,prompt,response_a,response_b\nc-1," + b"x" * 10_000_000 + b",a,b\n",
        "field larger than field limit",
    ),
    "JSON nested 100 000 deep": (
        "deep.jsonl",
        lambda: LINE.replace('"p"', "[" * 100_000 + "]" * 100_000).encode() + b"\n",
        "nested more than 32 levels",
    ),
    "JSON gold nested 60 000 deep in a CSV": (
        "deep_gold.csv",
        lambda: (
            b'id,prompt,response_a,response_b,gold\nc-1,p,a,b,"'
            + b"[" * 60_000
            + b"]" * 60_000
            + b'"\n'
        ),
        "nested more than 32 levels",
    ),
    "40 MB without a newline (a JSON array)": (
        "array.jsonl",
        lambda: b"[" + b'{"id": "c-1"}, ' * (40 * 2**20 // 15) + b"]",
        "longer than 16 MiB",
    ),
    "100 000 bad lines, listed 50 at most": (
        "bad.jsonl",
        lambda: b"{nope}\n" * 100_000,
        "… and 99950 more",
    ),
}


def test_every_committed_item_file_is_a_case() -> None:
    assert sorted(p.name for p in ITEMS.iterdir()) == sorted(c[0] for c in COMMITTED)


@pytest.mark.parametrize(
    ("name", "attack", "names"), COMMITTED, ids=[f"{c[0]}: {c[1]}" for c in COMMITTED]
)
def test_a_hostile_item_file_is_refused(
    cli: Cli, hostile: HostileCase, name: str, attack: str, names: str
) -> None:
    cli.refuses("items", "import", "helpful-pairs", str(ITEMS / name), names=names)
    hostile.refused()


@pytest.mark.parametrize("skip", [False, True], ids=["all-or-nothing", "--skip-invalid"])
@pytest.mark.parametrize("attack", sorted(GENERATED))
def test_a_generated_hostile_item_file_is_refused_fast(
    cli: Cli, hostile: HostileCase, tmp_path: Path, attack: str, skip: bool
) -> None:
    name, make, names = GENERATED[attack]
    path = tmp_path / name
    path.write_bytes(make())
    flags = ["--skip-invalid"] if skip else []
    cli.refuses("items", "import", "helpful-pairs", str(path), *flags, names=names)
    hostile.refused()


def test_formula_cells_are_data_and_neutralised_on_export(own_cli: Cli, tmp_path: Path) -> None:
    """Not a refusal: a prompt may well start with `=`. The guard is the export."""
    items = tmp_path / "formulas.csv"
    cells = ["=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", '＝HYPERLINK("http://evil.example")']
    items.write_text(
        'id,prompt,response_a,response_b\n"=HYPERLINK(""x"")",' + ",".join(cells[:3]) + "\n"
    )
    runner = CliRunner()
    done = runner.invoke(app, ["items", "import", "helpful-pairs", str(items)])
    assert done.exit_code == 0, done.stderr
    out = tmp_path / "out.csv"
    done = runner.invoke(
        app, ["export", "helpful-pairs", "--aggregate", "--format", "csv", "--out", str(out)]
    )
    assert done.exit_code == 0, done.stderr
    with out.open(newline="") as handle:
        exported = [cell for row in csv.reader(handle) for cell in row]
    assert '\'=HYPERLINK("x")' in exported
    assert not [c for c in exported if c[:1] in ("=", "+", "@", "-")], exported
