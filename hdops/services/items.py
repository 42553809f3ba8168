"""Importing items into a project (SPEC §3): `import_items`.

One pass over the file, one transaction. Records are checked as they are read
(`hdops.domain.items`), and valid ones are written a chunk at a time with bulk
SQL (`hdops.store.imports`), so memory stays flat and 100k items take seconds.
All-or-nothing without re-reading the file: once an invalid line is seen,
writing stops but checking goes on, so every problem is reported; the service
then raises `InvalidInput` and the caller's unit of work rolls back what the
earlier chunks wrote. With `skip_invalid` the valid lines are kept instead.

Idempotent by external id: an id already in the project adds nothing; changed
data or gold replace the stored ones only while the item has no answer (an
answered item would otherwise silently change under its answers), else the id
is reported as a conflict and left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hdops.clock import utcnow
from hdops.domain.items import (
    FileFormat,
    ItemRecord,
    LineProblem,
    file_format,
    read_records,
    rules_for,
)
from hdops.domain.tasks.registry import get_task_type
from hdops.errors import Conflict, InvalidInput
from hdops.services import audit
from hdops.services.projects import get_project, task_settings
from hdops.store import imports as store
from hdops.store.orm import Project

CHUNK = 2000
MAX_BATCH_CHARS = 80  # Batch.name is String(80)
# Problems kept in memory for the report; the count beyond it is still exact.
MAX_PROBLEMS_KEPT = 10_000
# One item's line: at most 50 values of 100 000 characters (domain.items), far less
# in practice; 16 MiB leaves room for multi-byte text and JSON escapes.
MAX_LINE_BYTES = 16 * 2**20

Progress = Callable[[int, int], None]  # (bytes read, file size)
T = TypeVar("T")


class InvalidItemsFile(InvalidInput):
    """Invalid lines in an items file. `problems` keeps the first
    `MAX_PROBLEMS_KEPT`; `total` counts them all."""

    def __init__(self, message: str, problems: list[str], total: int) -> None:
        super().__init__(message, problems)
        self.total = total


@dataclass(frozen=True, slots=True)
class ItemConflict:
    """An id whose data changed although the item already has answers."""

    line: int
    external_id: str

    def __str__(self) -> str:
        return (
            f"line {self.line}: id {self.external_id!r} already has answers or an open task; "
            "its data was not changed"
        )


@dataclass
class ImportReport:
    """What an import did. `skipped` are the invalid lines left out (only with
    `skip_invalid`; otherwise invalid lines raise and nothing is written)."""

    project: str
    batch: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: list[ItemConflict] = field(default_factory=list)
    skipped: list[LineProblem] = field(default_factory=list)
    skipped_count: int = 0

    @property
    def records(self) -> int:
        return self.added + self.updated + self.unchanged + len(self.conflicts)

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "batch": self.batch,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "conflicts": [{"line": c.line, "id": c.external_id} for c in self.conflicts],
            "skipped": self.skipped_count,
            "skipped_lines": [str(p) for p in self.skipped],
        }


def check_batch_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_BATCH_CHARS or not name.isprintable():
        raise InvalidInput(f"batch name must be 1-{MAX_BATCH_CHARS} printable characters")
    return name


def import_items(
    session: Session,
    project_name: str,
    path: Path,
    *,
    batch: str | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a `.jsonl` or `.csv` file of items into a project.

    Raises `InvalidInput` (every bad line, `line N: reason`) when any line is
    invalid and `skip_invalid` is false; the caller's unit of work must then be
    rolled back, which `Store.unit_of_work` does when the exception leaves it."""
    fmt = file_format(path)
    project = get_project(session, project_name)
    batch_name = check_batch_name(batch if batch is not None else path.stem[:MAX_BATCH_CHARS])
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise InvalidInput(f"file not found: {path}") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        size = _size(handle)
        lines = _CountingLines(handle)
        report = ImportReport(project=project.name, batch=batch_name)
        writer = _Writer(session, project, batch_name, report)
        try:
            _run(lines, fmt, project, writer, report, skip_invalid, progress, size)
        except InvalidInput as exc:
            raise InvalidInput(f"{path.name}: {exc.summary}", exc.problems) from None
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None

    if report.skipped_count and not skip_invalid:
        raise InvalidItemsFile(
            f"{path.name}: {report.skipped_count} invalid line(s); nothing was imported "
            "(fix them, or use --skip-invalid to import the valid lines only)",
            [str(p) for p in report.skipped],
            report.skipped_count,
        )
    if report.records == 0:
        raise InvalidItemsFile(
            f"{path.name}: no valid items to import",
            [str(p) for p in report.skipped],
            report.skipped_count,
        )
    audit.record(
        session,
        "items.import",
        project.name,
        file=path.name,
        batch=batch_name,
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        conflicts=len(report.conflicts),
        skipped=report.skipped_count,
    )
    return report


def _run(
    lines: _CountingLines,
    fmt: FileFormat,
    project: Project,
    writer: _Writer,
    report: ImportReport,
    skip_invalid: bool,
    progress: Progress | None,
    size: int,
) -> None:
    rules = rules_for(get_task_type(project.task_type), task_settings(project))
    for chunk in _batched(read_records(lines, fmt, rules), CHUNK):
        good: list[ItemRecord] = []
        for result in chunk:
            if isinstance(result, ItemRecord):
                good.append(result)
            else:
                report.skipped_count += 1
                if len(report.skipped) < MAX_PROBLEMS_KEPT:
                    report.skipped.append(result)
        if skip_invalid or not report.skipped_count:
            writer.write(good)
        if progress is not None:
            progress(lines.bytes_read, size)


class _Writer:
    """Sorts one chunk of records into added / updated / unchanged / conflicts and
    writes them in bulk. The batch row is created with the first new item."""

    def __init__(self, session: Session, project: Project, batch_name: str, report: ImportReport):
        self.session = session
        self.project_id = project.id
        self.target = project.overlap
        self.batch_name = batch_name
        self.batch_id: int | None = None
        self.report = report
        self.now = utcnow()
        # A project's first import needs no lookups: nothing can exist yet.
        self.may_exist = store.has_items(session, project.id)

    def write(self, records: list[ItemRecord]) -> None:
        if not records:
            return
        existing = (
            store.find_existing(self.session, self.project_id, [r.external_id for r in records])
            if self.may_exist
            else {}
        )
        new: list[store.NewItem] = []
        changes: list[store.ItemChange] = []
        for record in records:
            old = existing.get(record.external_id)
            if old is None:
                new.append(store.NewItem(record.external_id, record.data, record.gold))
            elif old.data == record.data and old.gold == record.gold:
                self.report.unchanged += 1
            elif old.answered:
                self.report.conflicts.append(ItemConflict(record.line, record.external_id))
            else:
                changes.append(store.ItemChange(old.id, record.data, record.gold))
        try:
            if new:
                store.insert_items(
                    self.session,
                    project_id=self.project_id,
                    batch_id=self._batch_id(),
                    target=self.target,
                    items=new,
                    now=self.now,
                )
            store.update_items(self.session, changes, self.now)
        except IntegrityError:
            raise Conflict(
                "another import added some of these ids at the same time; "
                "nothing was imported, run the import again"
            ) from None
        self.report.added += len(new)
        self.report.updated += len(changes)

    def _batch_id(self) -> int:
        if self.batch_id is None:
            found = store.find_batch_id(self.session, self.project_id, self.batch_name)
            self.batch_id = (
                found
                if found is not None
                else store.create_batch(self.session, self.project_id, self.batch_name, self.now)
            )
        return self.batch_id


class _CountingLines:
    """The file's lines, counting bytes read for the progress bar. A line is read
    at most `MAX_LINE_BYTES` at a time: a file with no newlines (a JSON array, a
    binary file) is refused after 16 MiB instead of being read whole into memory."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.bytes_read = 0

    def __iter__(self) -> Iterator[bytes]:
        number = 0
        while line := self._handle.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(line) > MAX_LINE_BYTES:
                raise InvalidInput(
                    f"line {number}: longer than {MAX_LINE_BYTES // 2**20} MiB; a file of "
                    "items has one item per line (JSON Lines) or per row (CSV)"
                )
            self.bytes_read += len(line)
            yield line


def _size(handle: BinaryIO) -> int:
    try:
        return max(0, handle.seek(0, 2))
    finally:
        handle.seek(0)


def _batched(values: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for value in values:
        chunk.append(value)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
