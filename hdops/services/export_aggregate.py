"""`hdops export PROJECT --aggregate` (SPEC §4): one row per item, not per answer.

Every item of the project, in import order, with:

* `item_id` (the external id), `is_gold`, `answers` (accepted answers: rejected or
  flagged ones are left out of the aggregate);
* `label` and `confidence`: for pairwise and choice, the Dawid–Skene label and its
  posterior probability (majority vote and the share of votes when there are not
  enough raters to model); for ratings, the calibrated mean rounded to the scale
  and the probability that the true calibrated rating rounds to it (see
  `hdops.domain.quality.analysis`). A gold item's label is its gold, confidence 1;
* `agreement`: the item's own agreement (share of agreeing pairs of answers, or
  for ratings 1 − mean pairwise difference / the scale's span);
* ratings only: `raw_mean`, `raw_median`, `calibrated_mean`, `calibrated_median`,
  raw and calibrated side by side.

An item without accepted answers has a row with `answers` 0 and the rest empty.
Text projects have nothing to aggregate and are refused. The file is replaced only
when complete, and CSV cells are neutralised against formula injection as in the
per-answer export (a choice label is the researcher's own text).
"""

from __future__ import annotations

import csv
import json
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from hdops.errors import InvalidInput
from hdops.files import check_output_file, replacing
from hdops.services.export import ExportFormat, ExportResult, neutralize_csv_cell
from hdops.services.quality import analyse_project

LABEL_COLUMNS = ("item_id", "is_gold", "answers", "label", "confidence", "agreement")
RATING_COLUMNS = ("raw_mean", "raw_median", "calibrated_mean", "calibrated_median")
TEXT_COLUMNS = {"item_id", "label"}  # cells holding text someone else wrote


class UnitsOfWork(Protocol):
    def unit_of_work(self) -> AbstractContextManager[Session]: ...


@dataclass(frozen=True)
class AggregateTable:
    project: str
    method: str  # dawid-skene | majority-vote | offsets
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]


def aggregate_table(session: Session, project_name: str) -> AggregateTable:
    """The aggregate rows of a project (InvalidInput for a text project)."""
    loaded = analyse_project(session, project_name)
    analysis = loaded.analysis
    if analysis is None:
        raise InvalidInput(
            f"{loaded.project.name} has {loaded.project.task_type} answers, which have no "
            "aggregate label; export the answers without --aggregate"
        )
    columns = LABEL_COLUMNS + (RATING_COLUMNS if loaded.is_rating else ())
    rows = []
    for item in loaded.items:
        result = analysis.items.get(item.item_id)
        row: dict[str, Any] = dict.fromkeys(columns)
        row.update(item_id=item.external_id, is_gold=item.gold is not None, answers=0)
        if result is not None:
            row.update(
                answers=result.answers,
                label=result.label,
                confidence=result.confidence,
                agreement=result.agreement,
            )
            if loaded.is_rating:
                row.update(
                    raw_mean=result.raw_mean,
                    raw_median=result.raw_median,
                    calibrated_mean=result.calibrated_mean,
                    calibrated_median=result.calibrated_median,
                )
        rows.append(row)
    return AggregateTable(loaded.project.name, analysis.method, columns, rows)


def _csv_cell(column: str, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if column in TEXT_COLUMNS:
        return neutralize_csv_cell(str(value))
    return value


def _parquet_type(column: str) -> Any:
    import pyarrow as pa

    if column in TEXT_COLUMNS:
        return pa.string()
    if column == "is_gold":
        return pa.bool_()
    if column == "answers":
        return pa.int64()
    return pa.float64()


def write_table(table: AggregateTable, fmt: ExportFormat, path: Path) -> None:
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([(c, _parquet_type(c)) for c in table.columns])
        data = {c: [row[c] for row in table.rows] for c in table.columns}
        pq.write_table(pa.Table.from_pydict(data, schema=schema), str(path))
        return
    with path.open("w", encoding="utf-8", newline="") as fh:
        if fmt == "jsonl":
            for row in table.rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            return
        writer = csv.writer(fh)
        writer.writerow(table.columns)
        writer.writerows([_csv_cell(c, row[c]) for c in table.columns] for row in table.rows)


def export_aggregate(
    units: UnitsOfWork, project_name: str, fmt: ExportFormat, out: Path
) -> tuple[ExportResult, str]:
    """Write one row per item of a project to `out` (replaced only when complete);
    returns the result and the aggregation method used."""
    check_output_file(out)
    with units.unit_of_work() as session:
        table = aggregate_table(session, project_name)
    with replacing(out) as partial:
        write_table(table, fmt, partial)
    return ExportResult(table.project, fmt, out, len(table.rows)), table.method
