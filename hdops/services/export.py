"""Exporting a project's answers (SPEC §4): `export_answers`.

One row per answer, in answer order, with the item's external id, the rater's
per-project pseudonym (never a platform id or name), the answer, rationale,
instruction version, seconds spent, answered_at (UTC), gold correctness where
the item has gold, and the answer's status (accepted / flagged: waiting for
review / rejected).

The export runs in three steps so that a million answers need neither a
million rows in memory nor one long lock on SQLite:

1. `prepare_export` (one short transaction): fix the last answer id to
   include and give every rater up to it a pseudonym;
2. `iter_export_rows`: read keyset pages, each in its own unit of work;
3. a writer per format streams the pages to a temporary file, renamed over
   `--out` only when complete, so a failed export never leaves half a file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, TextIO, get_args

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hdops.domain.pseudonyms import next_aliases
from hdops.domain.tasks.base import TaskSettings
from hdops.domain.tasks.registry import AnyTaskType, get_task_type
from hdops.errors import Conflict, InvalidInput
from hdops.files import check_output_file, replacing
from hdops.services.projects import get_project, task_settings
from hdops.store import exports as store

ExportFormat = Literal["jsonl", "csv", "parquet"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
PAGE_SIZE = 5000

COLUMNS = (
    "item_id",
    "rater",
    "answer",
    "rationale",
    "instruction_version",
    "seconds_spent",
    "answered_at",
    "gold_correct",
    "status",
    "answer_id",
)

# A spreadsheet treats a cell starting with these as a formula (OWASP "CSV injection"),
# also after leading spaces, and some read the full-width forms (＝＋－＠) as the ASCII ones.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


class UnitsOfWork(Protocol):
    """Anything that opens a unit of work, such as `hdops.store.db.Store`."""

    def unit_of_work(self) -> AbstractContextManager[Session]: ...


@dataclass(frozen=True, slots=True)
class ExportRow:
    item_id: str
    rater: str
    answer: dict[str, Any]
    rationale: str | None
    instruction_version: int
    seconds_spent: int
    answered_at: datetime
    gold_correct: bool | None
    status: str
    answer_id: int


@dataclass(frozen=True)
class ExportPlan:
    """What one export covers: a project's answers with ids up to `upto_answer_id`."""

    project_id: int
    project: str
    task: AnyTaskType
    settings: TaskSettings
    upto_answer_id: int


@dataclass(frozen=True)
class ExportResult:
    project: str
    format: ExportFormat
    path: Path
    rows: int


# --------------------------------------------------------------------------- pure helpers


def neutralize_csv_cell(value: str) -> str:
    """Make a text cell inert in spreadsheets: a cell that starts like a formula
    gets a leading `'`, which spreadsheets show as text and never evaluate."""
    return "'" + value if value.lstrip(" \u3000").startswith(FORMULA_TRIGGERS) else value


def iso_utc(when: datetime) -> str:
    """ISO-8601 in UTC with a `Z`, e.g. `2026-01-05T09:00:00Z`."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def format_for(path: Path, given: str | None) -> ExportFormat:
    """The format asked for, or the one the output file's suffix names."""
    name = (given or path.suffix.lstrip(".")).lower()
    for fmt in EXPORT_FORMATS:
        if name == fmt:
            return fmt
    if given:
        raise InvalidInput(f"unknown export format {given!r} (use jsonl, csv or parquet)")
    raise InvalidInput(
        f"cannot tell the format from {path.name!r}: give --format jsonl|csv|parquet"
    )


# --------------------------------------------------------------------------- reading


def prepare_export(session: Session, project_name: str) -> ExportPlan:
    """Bound the export and give every rater in it a pseudonym (kept for good:
    the same person has the same alias in every later export of the project)."""
    project = get_project(session, project_name)
    upto = store.last_answer_id(session, project.id)
    newcomers = store.people_without_pseudonym(session, project.id, upto)
    if newcomers:
        aliases = next_aliases(store.project_aliases(session, project.id), len(newcomers))
        store.add_pseudonyms(session, project.id, list(zip(newcomers, aliases, strict=True)))
    return ExportPlan(
        project_id=project.id,
        project=project.name,
        task=get_task_type(project.task_type),
        settings=task_settings(project),
        upto_answer_id=upto,
    )


def _row(plan: ExportPlan, record: store.AnswerRecord) -> ExportRow:
    answer = dict(record.answer)
    inline_rationale = answer.pop("rationale", None)
    gold_correct: bool | None = None
    if record.gold is not None:
        gold_correct = record.gold_correct
        if gold_correct is None:  # not judged when answered: judge against the gold now
            gold_correct = plan.task.is_correct(plan.settings, answer, record.gold)
    if record.alias is None:  # prepare_export gave everyone up to the bound an alias
        raise Conflict("an answer has no rater pseudonym; run the export again")
    return ExportRow(
        item_id=record.external_id,
        rater=record.alias,
        answer=answer,
        rationale=record.rationale if record.rationale is not None else inline_rationale,
        instruction_version=record.instruction_version,
        seconds_spent=record.seconds_spent,
        answered_at=record.answered_at,
        gold_correct=gold_correct,
        status=record.status,
        answer_id=record.answer_id,
    )


def iter_export_rows(
    units: UnitsOfWork, plan: ExportPlan, page_size: int = PAGE_SIZE
) -> Iterator[list[ExportRow]]:
    """Pages of export rows in answer order, each page read in its own unit of work."""
    after = 0
    while after < plan.upto_answer_id:
        with units.unit_of_work() as session:
            page = store.answers_page(
                session,
                plan.project_id,
                after_id=after,
                upto_id=plan.upto_answer_id,
                limit=page_size,
            )
        if not page:
            return
        after = page[-1].answer_id
        yield [_row(plan, record) for record in page]


# --------------------------------------------------------------------------- writing


def _jsonl_writer(pages: Iterable[list[ExportRow]], fh: TextIO) -> int:
    count = 0
    for page in pages:
        for row in page:
            fh.write(
                json.dumps(
                    {
                        "item_id": row.item_id,
                        "rater": row.rater,
                        "answer": row.answer,
                        "rationale": row.rationale,
                        "instruction_version": row.instruction_version,
                        "seconds_spent": row.seconds_spent,
                        "answered_at": iso_utc(row.answered_at),
                        "gold_correct": row.gold_correct,
                        "status": row.status,
                        "answer_id": row.answer_id,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
        count += len(page)
    return count


def _csv_writer(pages: Iterable[list[ExportRow]], fh: TextIO) -> int:
    writer = csv.writer(fh)
    writer.writerow(COLUMNS)
    text = neutralize_csv_cell
    count = 0
    for page in pages:
        writer.writerows(
            [
                text(row.item_id),
                text(row.rater),
                text(json.dumps(row.answer, ensure_ascii=False)),
                text(row.rationale) if row.rationale is not None else "",
                row.instruction_version,
                row.seconds_spent,
                iso_utc(row.answered_at),
                "" if row.gold_correct is None else str(row.gold_correct).lower(),
                text(row.status),
                row.answer_id,
            ]
            for row in page
        )
        count += len(page)
    return count


def _parquet_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("item_id", pa.string()),
            ("rater", pa.string()),
            ("answer", pa.string()),  # JSON: its shape depends on the task type
            ("rationale", pa.string()),
            ("instruction_version", pa.int32()),
            ("seconds_spent", pa.int64()),
            ("answered_at", pa.timestamp("us", tz="UTC")),
            ("gold_correct", pa.bool_()),
            ("status", pa.string()),
            ("answer_id", pa.int64()),
        ]
    )


def _parquet_writer(pages: Iterable[list[ExportRow]], path: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_schema()
    count = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        for page in pages:
            columns = {
                "item_id": [r.item_id for r in page],
                "rater": [r.rater for r in page],
                "answer": [json.dumps(r.answer, ensure_ascii=False) for r in page],
                "rationale": [r.rationale for r in page],
                "instruction_version": [r.instruction_version for r in page],
                "seconds_spent": [r.seconds_spent for r in page],
                "answered_at": [r.answered_at.astimezone(UTC) for r in page],
                "gold_correct": [r.gold_correct for r in page],
                "status": [r.status for r in page],
                "answer_id": [r.answer_id for r in page],
            }
            writer.write_table(pa.Table.from_pydict(columns, schema=schema))
            count += len(page)
    return count


def write_rows(pages: Iterable[list[ExportRow]], fmt: ExportFormat, path: Path) -> int:
    """Write pages of rows to `path` in a format; returns the number of rows."""
    if fmt == "parquet":
        return _parquet_writer(pages, path)
    write: Callable[[Iterable[list[ExportRow]], TextIO], int] = (
        _jsonl_writer if fmt == "jsonl" else _csv_writer
    )
    with path.open("w", encoding="utf-8", newline="") as fh:
        return write(pages, fh)


# --------------------------------------------------------------------------- use case


def export_answers(
    units: UnitsOfWork, project_name: str, fmt: ExportFormat, out: Path
) -> ExportResult:
    """Export every answer of a project to `out` (replaced only when complete)."""
    check_output_file(out)  # before the pseudonyms are handed out
    plan = _prepare(units, project_name)
    with replacing(out) as partial:
        rows = write_rows(iter_export_rows(units, plan), fmt, partial)
    return ExportResult(project=plan.project, format=fmt, path=out, rows=rows)


def _prepare(units: UnitsOfWork, project_name: str) -> ExportPlan:
    """`prepare_export`, retried once if a concurrent export handed out the same
    new alias first (PostgreSQL; SQLite serialises writers)."""
    for attempt in (1, 2):
        try:
            with units.unit_of_work() as session:
                return prepare_export(session, project_name)
        except IntegrityError:
            if attempt == 2:
                raise Conflict("another export is assigning pseudonyms; try again") from None
    raise AssertionError("unreachable")
