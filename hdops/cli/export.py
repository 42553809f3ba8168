"""`hdops export PROJECT --format jsonl|csv|parquet --out PATH [--aggregate]` (SPEC §4)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from hdops.cli.common import handle_errors, open_store, out
from hdops.errors import HdopsError
from hdops.files import check_output_file
from hdops.services import export as svc


class Format(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


AGGREGATE_NOT_YET = (
    "--aggregate (one row per item with the aggregated label and agreement) comes with "
    "the quality reports and is not available yet; export without it for one row per answer"
)


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
            False, "--aggregate", help="One row per item with the aggregated label."
        ),
    ) -> None:
        """Export PROJECT's answers, one row per answer, raters as stable pseudonyms.

        CSV cells that would start a spreadsheet formula are prefixed with '."""
        if aggregate:
            raise HdopsError(AGGREGATE_NOT_YET)
        fmt_name = svc.format_for(out_path, fmt.value if fmt is not None else None)
        check_output_file(out_path)
        store = open_store()
        try:
            result = svc.export_answers(store, project, fmt_name, out_path)
        finally:
            store.dispose()
        out.print(
            f"exported {result.rows} answers of {result.project} to {result.path} "
            f"({result.format})",
            markup=False,
        )
