"""Item input records (SPEC §3): one JSONL line or CSV row → a checked record.

Pure: no database and no file system. The import service feeds the raw byte
lines of a file in and gets, in file order, either an `ItemRecord` or a
`LineProblem` per record. That lets one pass stream a 100k-line file, report
*every* bad line with its number, and still decide all-or-nothing at the end.

Decoding happens here, line by line, so a file that is mostly UTF-8 with one
bad byte is reported as "line 17: not valid UTF-8" instead of one opaque
error for the whole file. Problems that make the rest of the file unreadable
(a missing CSV column, a UTF-16 file, broken CSV quoting) raise `InvalidInput`
at once: there is nothing useful to report per line after them.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Literal

from hdops.domain.tasks.base import TaskSettings, TaskType
from hdops.domain.validation import MAX_NESTING, too_deep
from hdops.errors import InvalidInput

MAX_ID_CHARS = 200  # Item.external_id is String(200)
MAX_FIELD_CHARS = 100_000  # per data value; a chat message shows far less anyway
MAX_DATA_KEYS = 50  # task fields (≤ 20) plus a little metadata
MAX_KEY_CHARS = 64  # same limit as task field names
# csv refuses cells above its (global) field size limit with an error that stops the
# whole reader; raise it far above our own cap so an overlong cell becomes one
# reported line instead.
CSV_FIELD_LIMIT = 16 * MAX_FIELD_CHARS

FileFormat = Literal["jsonl", "csv"]
FORMAT_BY_SUFFIX: dict[str, FileFormat] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_TOP_KEYS = frozenset({"id", "data", "gold"})

GoldCheck = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """One valid input record. `gold` is the canonical answer form, or None."""

    line: int
    external_id: str
    data: dict[str, Any]
    gold: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class LineProblem:
    """Why one record (starting at `line`) cannot be imported."""

    line: int
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return f"line {self.line}: {'; '.join(self.reasons)}"


@dataclass(frozen=True)
class RecordRules:
    """What a record must satisfy for one project: its task fields, and a gold check
    that returns the canonical gold answer or raises `InvalidInput`."""

    fields: tuple[str, ...]
    check_gold: GoldCheck


def rules_for(task_type: TaskType[Any, Any], settings: TaskSettings) -> RecordRules:
    """Rules for a project's task. Gold is validated as an answer, except that a
    rationale is never *required* of gold (researchers rarely write one for the
    key) nor refused (an explanation of the key is useful)."""
    relaxed = settings.model_copy(update={"rationale": "optional"})

    def check_gold(raw: dict[str, Any]) -> dict[str, Any]:
        return task_type.validate_answer(relaxed, raw)

    return RecordRules(fields=tuple(settings.fields), check_gold=check_gold)


def file_format(path: PurePath) -> FileFormat:
    """The input format from the file name: `.jsonl` (or `.ndjson`) or `.csv`."""
    fmt = FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(f"{path.name}: the file must end in .jsonl or .csv")
    return fmt


def read_records(
    lines: Iterable[bytes], fmt: FileFormat, rules: RecordRules
) -> Iterator[ItemRecord | LineProblem]:
    """Every record of a file, checked, in order; a repeated id is a problem of the
    later line. Raises `InvalidInput` for an empty file or an unreadable one."""
    reader = _read_jsonl(lines, rules) if fmt == "jsonl" else _read_csv(lines, rules)
    seen: dict[str, int] = {}
    count = 0
    for result in reader:
        count += 1
        if isinstance(result, ItemRecord):
            first = seen.setdefault(result.external_id, result.line)
            if first != result.line:
                yield LineProblem(
                    result.line, (f"id: {result.external_id!r} is already on line {first}",)
                )
                continue
        yield result
    if count == 0:
        raise InvalidInput("the file has no items")


# --------------------------------------------------------------------------- one record


def check_record(
    line: int, raw: Any, rules: RecordRules, known: tuple[str, ...] = ()
) -> ItemRecord | LineProblem:
    """Check one decoded record `{"id", "data", "gold"?}` against the rules.
    `known` are problems the caller already found while decoding the record."""
    if not isinstance(raw, dict):
        return LineProblem(line, ('must be a JSON object such as {"id": ..., "data": {...}}',))
    reasons = [*known, *(f"{key}: unknown field" for key in raw if key not in _TOP_KEYS)]
    external_id = _check_id(raw.get("id"), reasons)
    data = _check_data(raw.get("data"), rules.fields, reasons)
    gold = _check_gold(raw.get("gold"), rules, reasons)
    if reasons or external_id is None or data is None:
        return LineProblem(line, tuple(reasons))
    return ItemRecord(line, external_id, data, gold)


def _check_id(value: Any, reasons: list[str]) -> str | None:
    if value is None:
        reasons.append("id: required")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        reasons.append("id: must be a string")
        return None
    text: str = value.strip()
    if not 1 <= len(text) <= MAX_ID_CHARS:
        reasons.append(f"id: must be 1-{MAX_ID_CHARS} characters")
        return None
    if not text.isprintable():
        reasons.append("id: must not contain control characters")
        return None
    return text


def _check_text(path: str, value: str, reasons: list[str]) -> None:
    if len(value) > MAX_FIELD_CHARS:
        reasons.append(f"{path}: at most {MAX_FIELD_CHARS} characters (got {len(value)})")
    elif "\x00" in value:
        reasons.append(f"{path}: contains a NUL character")
    elif _has_surrogate(value):
        reasons.append(f"{path}: contains an unpaired surrogate (not valid Unicode)")


def _has_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check_data(value: Any, fields: tuple[str, ...], reasons: list[str]) -> dict[str, Any] | None:
    if value is None:
        reasons.append("data: required")
        return None
    if not isinstance(value, dict):
        reasons.append("data: must be an object mapping field names to text")
        return None
    before = len(reasons)
    for name in fields:
        text = value.get(name)
        if text is None:
            reasons.append(f"data.{name}: required")
        elif not isinstance(text, str):
            reasons.append(f"data.{name}: must be a string")
        elif not text.strip():
            reasons.append(f"data.{name}: must not be empty")
        else:
            _check_text(f"data.{name}", text, reasons)
    if len(value) > MAX_DATA_KEYS:
        reasons.append(f"data: at most {MAX_DATA_KEYS} keys (got {len(value)})")
    else:
        for key, extra in value.items():
            if key in fields:
                continue
            if not key or len(key) > MAX_KEY_CHARS:
                reasons.append(f"data: key names must be 1-{MAX_KEY_CHARS} characters")
            elif isinstance(extra, str):
                _check_text(f"data.{key}", extra, reasons)
            elif isinstance(extra, float) and not math.isfinite(extra):
                reasons.append(f"data.{key}: must be a finite number")
            elif extra is not None and not isinstance(extra, int | float | bool):
                reasons.append(f"data.{key}: must be text, a number, true/false or null")
    return value if len(reasons) == before else None


def _check_gold(value: Any, rules: RecordRules, reasons: list[str]) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        reasons.append("gold: must be an object in the shape of an answer")
        return None
    try:
        return rules.check_gold(value)
    except InvalidInput as exc:
        found = exc.problems or [exc.summary]
        reasons.extend(_as_gold_path(p) for p in found)
        return None


def _as_gold_path(problem: str) -> str:
    """Answer validation says `answer.choice: …`; in a file that is the `gold` key."""
    return "gold" + problem[len("answer") :] if problem.startswith("answer") else problem


# --------------------------------------------------------------------------- decoding


def _decode_first(raw: bytes) -> bytes:
    if raw.startswith(_UTF16_BOMS):
        raise InvalidInput("the file is UTF-16 encoded; save it as UTF-8")
    return raw[len(_UTF8_BOM) :] if raw.startswith(_UTF8_BOM) else raw


def _decode_error(exc: UnicodeDecodeError) -> str:
    bad = exc.object[exc.start : exc.start + 1]
    where = f"byte 0x{bad.hex()} at column {exc.start + 1}"
    return f"not valid UTF-8 text ({where}); save the file as UTF-8"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _too_deep(line: int) -> InvalidInput:
    """Nesting beyond MAX_NESTING refuses the whole file, in one line: it is not a
    slip to fix among others, and nothing downstream could render it."""
    return InvalidInput(f"line {line}: nested more than {MAX_NESTING} levels deep")


def _read_jsonl(lines: Iterable[bytes], rules: RecordRules) -> Iterator[ItemRecord | LineProblem]:
    for number, raw in enumerate(lines, start=1):
        if number == 1:
            raw = _decode_first(raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield LineProblem(number, (_decode_error(exc),))
            continue
        if not text.strip():
            continue  # blank lines (a trailing newline, spacing) are not records
        try:
            obj = json.loads(text, parse_constant=_reject_constant)
            if too_deep(obj):
                raise RecursionError
        except RecursionError:
            raise _too_deep(number) from None
        except json.JSONDecodeError as exc:
            yield LineProblem(number, (f"not valid JSON ({exc.msg} at column {exc.colno})",))
            continue
        except ValueError as exc:
            yield LineProblem(number, (f"not valid JSON ({exc})",))
            continue
        yield check_record(number, obj, rules)


class _Lines:
    """Decoded lines for `csv.reader`, remembering which physical lines were not
    UTF-8 so the row that contains them can be reported."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        self._lines = lines
        self.bad: dict[int, str] = {}

    def __iter__(self) -> Iterator[str]:
        for number, raw in enumerate(self._lines, start=1):
            if number == 1:
                raw = _decode_first(raw)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.bad[number] = _decode_error(exc)
                yield raw.decode("utf-8", "replace")


def _read_csv(lines: Iterable[bytes], rules: RecordRules) -> Iterator[ItemRecord | LineProblem]:
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    source = _Lines(lines)
    reader = csv.reader(iter(source), strict=False)
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)  # skip blank lines before the header
    except csv.Error as exc:
        raise InvalidInput(
            f"line {reader.line_num}: the CSV header cannot be read ({exc})"
        ) from None
    if header is None:
        raise InvalidInput("the file is empty (a CSV file needs a header line)")
    if reader.line_num in source.bad:
        raise InvalidInput(f"line {reader.line_num}: {source.bad[reader.line_num]}")
    columns = [cell.strip() for cell in header]
    _check_header(columns, rules.fields)
    id_at, gold_at = columns.index("id"), columns.index("gold") if "gold" in columns else None
    data_cols = [(i, name) for i, name in enumerate(columns) if i not in (id_at, gold_at)]

    end = reader.line_num
    while True:
        start = end + 1
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise InvalidInput(
                f"line {start}: CSV syntax error ({exc}); nothing after it can be read"
            ) from None
        if row is None:
            return
        end = reader.line_num
        if not row or not any(cell.strip() for cell in row):
            continue
        bad = [source.bad[n] for n in range(start, end + 1) if n in source.bad]
        if bad:
            yield LineProblem(start, (bad[0],))
            continue
        if len(row) != len(columns):
            yield LineProblem(start, (f"expected {len(columns)} cells, got {len(row)}",))
            continue
        try:
            record, known = _csv_record(row, id_at, gold_at, data_cols)
        except RecursionError:
            raise _too_deep(start) from None
        yield check_record(start, record, rules, known)


def _check_header(columns: list[str], fields: tuple[str, ...]) -> None:
    problems: list[str] = []
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        problems.append(f"repeated column(s): {', '.join(duplicates)}")
    if "" in columns:
        problems.append("a column has no name")
    missing = [c for c in ("id", *fields) if c not in columns]
    if missing:
        problems.append(
            f"missing column(s): {', '.join(missing)} "
            f"(needed: id, {', '.join(fields)}; optional: gold)"
        )
    if problems:
        raise InvalidInput("the CSV header is not usable: " + "; ".join(problems))


def _csv_record(
    row: list[str], id_at: int, gold_at: int | None, data_cols: list[tuple[int, str]]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A CSV row as a JSONL-shaped record, plus a problem if the gold cell is not JSON."""
    record: dict[str, Any] = {"id": row[id_at] or None, "data": {n: row[i] for i, n in data_cols}}
    if gold_at is not None and row[gold_at].strip():
        try:
            record["gold"] = json.loads(row[gold_at], parse_constant=_reject_constant)
            if too_deep(record["gold"]):
                raise RecursionError
        except json.JSONDecodeError as exc:
            return record, (f"gold: not valid JSON ({exc.msg} at column {exc.colno})",)
        except ValueError as exc:
            return record, (f"gold: not valid JSON ({exc})",)
    return record, ()
