"""`hdops export PROJECT --format jsonl|csv|parquet --out PATH` (SPEC §4).

`--aggregate` (one row per item) comes with the quality reports (issue 14); until
then the option is not offered at all."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from hdops.cli.common import handle_errors, open_store, out
from hdops.files import check_output_file
from hdops.services import export as svc


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
    ) -> None:
        """Export PROJECT's answers, one row per answer, raters as stable pseudonyms.

        CSV cells that would start a spreadsheet formula are prefixed with '."""
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
