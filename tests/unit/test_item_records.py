"""Checking item input records (pure: no database, no files)."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

import pytest

from hdops.domain.items import (
    MAX_FIELD_CHARS,
    ItemRecord,
    LineProblem,
    RecordRules,
    check_record,
    file_format,
    read_records,
    rules_for,
)
from hdops.domain.tasks.registry import get_task_type
from hdops.errors import InvalidInput

PAIRWISE = get_task_type("pairwise")
SETTINGS = PAIRWISE.parse_settings(
    {"type": "pairwise", "fields": ["prompt", "response_a", "response_b"]}
)
RULES = rules_for(PAIRWISE, SETTINGS)
DATA = {"prompt": "p", "response_a": "a", "response_b": "b"}


def problems(raw: Any, rules: RecordRules = RULES) -> list[str]:
    result = check_record(9, raw, rules)
    assert isinstance(result, LineProblem), result
    return list(result.reasons)


def jsonl(*lines: Any) -> bytes:
    return b"".join(
        (line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines
    )


def read(content: bytes, fmt: str = "jsonl") -> list[ItemRecord | LineProblem]:
    return list(read_records(content.splitlines(keepends=True), fmt, RULES))  # type: ignore[arg-type]


def test_a_valid_record() -> None:
    result = check_record(3, {"id": " ext-1 ", "data": DATA, "gold": {"choice": "a"}}, RULES)
    assert result == ItemRecord(3, "ext-1", DATA, {"choice": "a"})


def test_integer_ids_are_accepted_as_text() -> None:
    result = check_record(1, {"id": 17, "data": DATA}, RULES)
    assert isinstance(result, ItemRecord) and result.external_id == "17"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"data": DATA}, ["id: required"]),
        ({"id": True, "data": DATA}, ["id: must be a string"]),
        ({"id": "x" * 201, "data": DATA}, ["id: must be 1-200 characters"]),
        ({"id": "a\tb", "data": DATA}, ["id: must not contain control characters"]),
        ({"id": "x"}, ["data: required"]),
        ({"id": "x", "data": ["p"]}, ["data: must be an object mapping field names to text"]),
        ({"id": "x", "data": {**DATA, "prompt": 1}}, ["data.prompt: must be a string"]),
        ({"id": "x", "data": {**DATA, "prompt": "  "}}, ["data.prompt: must not be empty"]),
        (
            {"id": "x", "data": {**DATA, "prompt": "\x00"}},
            ["data.prompt: contains a NUL character"],
        ),
        (
            {"id": "x", "data": {**DATA, "meta": {"a": 1}}},
            ["data.meta: must be text, a number, true/false or null"],
        ),
        (
            {"id": "x", "data": DATA, "gold": {"choice": "z"}},
            ["gold.choice: input should be 'a', 'b' or 'tie'"],
        ),
        ({"id": "x", "data": DATA, "weight": 2}, ["weight: unknown field"]),
    ],
)
def test_problems_name_the_path(raw: dict[str, Any], expected: list[str]) -> None:
    assert problems(raw) == expected


def test_every_problem_of_a_record_is_listed() -> None:
    assert problems({"id": "", "data": {"prompt": "p"}, "gold": {"choice": "x"}}) == [
        "id: must be 1-200 characters",
        "data.response_a: required",
        "data.response_b: required",
        "gold.choice: input should be 'a', 'b' or 'tie'",
    ]


def test_field_size_is_capped() -> None:
    long = "x" * (MAX_FIELD_CHARS + 1)
    assert problems({"id": "x", "data": {**DATA, "response_a": long}}) == [
        f"data.response_a: at most {MAX_FIELD_CHARS} characters (got {MAX_FIELD_CHARS + 1})"
    ]


def test_unpaired_surrogates_are_refused() -> None:
    raw = json.loads(
        '{"id": "x", "data": {"prompt": "\\ud800", "response_a": "a", "response_b": "b"}}'
    )
    assert problems(raw) == ["data.prompt: contains an unpaired surrogate (not valid Unicode)"]


def test_gold_rationale_is_never_required() -> None:
    """A project that requires a rationale of contractors does not of the gold key."""
    settings = PAIRWISE.parse_settings(
        {"type": "pairwise", "fields": ["prompt"], "rationale": "required"}
    )
    rules = rules_for(PAIRWISE, settings)
    data = {"prompt": "p"}
    assert isinstance(
        check_record(1, {"id": "x", "data": data, "gold": {"choice": "a"}}, rules), ItemRecord
    )
    with_reason = {"choice": "b", "rationale": "B cites a source"}
    result = check_record(1, {"id": "x", "data": data, "gold": with_reason}, rules)
    assert isinstance(result, ItemRecord) and result.gold == with_reason


def test_file_format_by_suffix() -> None:
    assert file_format(PurePath("a/b.JSONL")) == "jsonl"
    assert file_format(PurePath("b.csv")) == "csv"
    with pytest.raises(InvalidInput):
        file_format(PurePath("b.json"))


# --------------------------------------------------------------------------- JSONL


def test_jsonl_skips_blank_lines_and_a_bom_and_keeps_line_numbers() -> None:
    content = b"\xef\xbb\xbf" + jsonl(
        {"id": "a", "data": DATA}, b"", b"  ", {"id": "b", "data": DATA}
    )
    results = read(content)
    assert [(r.line, r.external_id) for r in results if isinstance(r, ItemRecord)] == [
        (1, "a"),
        (4, "b"),
    ]


def test_jsonl_duplicate_ids_report_the_later_line() -> None:
    results = read(
        jsonl({"id": "a", "data": DATA}, {"id": "b", "data": DATA}, {"id": "a", "data": DATA})
    )
    assert [str(r) for r in results if isinstance(r, LineProblem)] == [
        "line 3: id: 'a' is already on line 1"
    ]


def test_jsonl_nan_is_not_json() -> None:
    results = read(b'{"id": "a", "data": {"prompt": NaN}}\n')
    assert str(results[0]) == "line 1: not valid JSON (NaN is not allowed)"


def test_jsonl_bad_bytes_are_one_line_problem() -> None:
    results = read(jsonl({"id": "a", "data": DATA}) + b'{"id": "\xff"}\n')
    assert isinstance(results[0], ItemRecord)
    assert str(results[1]).startswith("line 2: not valid UTF-8 text (byte 0xff at column 9)")


def test_empty_and_utf16_files_are_refused() -> None:
    with pytest.raises(InvalidInput, match="no items"):
        read(b"")
    with pytest.raises(InvalidInput, match="UTF-16"):
        read(json.dumps({"id": "a"}).encode("utf-16"))


# --------------------------------------------------------------------------- CSV


def test_csv_rows_become_records_with_their_starting_line() -> None:
    content = (
        b"id,prompt,response_a,response_b,gold,source\r\n"
        b'r1,"line one\r\nline two",A,B,,web\r\n'
        b'r2,p,A,B,"{""choice"": ""b""}",book\r\n'
    )
    results = read(content, "csv")
    assert results == [
        ItemRecord(
            2,
            "r1",
            {
                "prompt": "line one\r\nline two",
                "response_a": "A",
                "response_b": "B",
                "source": "web",
            },
            None,
        ),
        ItemRecord(
            4,
            "r2",
            {"prompt": "p", "response_a": "A", "response_b": "B", "source": "book"},
            {"choice": "b"},
        ),
    ]


def test_csv_header_problems_are_file_level() -> None:
    with pytest.raises(InvalidInput, match=r"missing column\(s\): id, response_b"):
        read(b"prompt,response_a\np,a\n", "csv")
    with pytest.raises(InvalidInput, match=r"repeated column\(s\): prompt"):
        read(b"id,prompt,prompt,response_a,response_b\n", "csv")
    with pytest.raises(InvalidInput, match="empty"):
        read(b"", "csv")


def test_csv_bad_bytes_in_a_row() -> None:
    results = read(b"id,prompt,response_a,response_b\nr1,caf\xe9,A,B\nr2,p,A,B\n", "csv")
    assert isinstance(results[0], LineProblem) and results[0].line == 2
    assert "not valid UTF-8" in results[0].reasons[0]
    assert isinstance(results[1], ItemRecord)


def test_csv_cells_above_the_csv_module_default_limit_are_a_line_problem() -> None:
    big = "x" * (MAX_FIELD_CHARS * 2)
    content = f"id,prompt,response_a,response_b\nr1,{big},A,B\nr2,p,A,B\n".encode()
    results = read(content, "csv")
    assert isinstance(results[0], LineProblem)
    assert "at most 100000 characters" in results[0].reasons[0]
    assert isinstance(results[1], ItemRecord)
