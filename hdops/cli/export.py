"""`hdops export PROJECT --format jsonl|csv|parquet --out PATH [--aggregate]` (SPEC §4).

Without `--aggregate`: one row per answer (every status), raters as stable
pseudonyms. With it: one row per item — the aggregated label (Dawid–Skene for
pairwise/choice, the calibrated mean rounded to the scale for ratings), its
confidence, the number of accepted answers and the item's agreement; for ratings
also the mean and median of the raw and of the calibrated ratings. Rejected or
flagged answers are left out of the aggregate (`hdops.services.export_aggregate`)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from hdops.cli.common import handle_errors, open_store, out
from hdops.files import check_output_file
from hdops.services import export as svc
from hdops.services import export_aggregate


class Format(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


def register(app: typer.Typer) -> None:
    """Add the root command `hdops export`."""

    @app.command("export")
    @handle_errors
    def export_cmd(
        project: str = typer.Argument(..., help="Project name.", show_default=False),
        fmt: Format | None = typer.Option(
            None, "--format", help="Output format (default: from the --out suffix)."
        ),
        out_path: Path = typer.Option(..., "--out", help="File to write.", show_default=False),
        aggregate: bool = typer.Option(
            False,
            "--aggregate",
            help="One row per item: aggregated label, confidence, answers, agreement "
            "(ratings: raw and calibrated mean and median).",
        ),
    ) -> None:
        """Export PROJECT's answers, one row per answer, raters as stable pseudonyms;
        with --aggregate, one row per item with its aggregated label.

        CSV cells that would start a spreadsheet formula are prefixed with '."""
        fmt_name = svc.format_for(out_path, fmt.value if fmt is not None else None)
        check_output_file(out_path)
        store = open_store()
        try:
            if aggregate:
                result, method = export_aggregate.export_aggregate(
                    store, project, fmt_name, out_path
                )
            else:
                result = svc.export_answers(store, project, fmt_name, out_path)
        finally:
            store.dispose()
        what = f"items ({method})" if aggregate else "answers"
        out.print(
            f"exported {result.rows} {what} of {result.project} to {result.path} ({result.format})",
            markup=False,
        )
