"""`hdops report PROJECT --out report.html`: the project's report as one self-contained
web page (SPEC §6b), for researchers deciding whether its labels can be used."""

from __future__ import annotations

from pathlib import Path

import typer

from hdops.cli.common import handle_errors, open_store, out
from hdops.clock import SystemClock
from hdops.files import check_output_file, write_bytes
from hdops.render.report_page import project_page
from hdops.services.quality import project_quality
from hdops.services.reports import project_figures


def register(app: typer.Typer) -> None:
    """Add the root command `hdops report`."""

    @app.command("report")
    @handle_errors
    def report_cmd(
        project: str = typer.Argument(..., help="Project name.", show_default=False),
        out_path: Path = typer.Option(..., "--out", help="HTML file to write.", show_default=False),
    ) -> None:
        """Write PROJECT's report (progress, work per contractor, quality, questions) as
        one HTML page with its charts inside: open it in any browser, offline."""
        check_output_file(out_path)
        store = open_store()
        try:
            with store.read() as session:
                figures = project_figures(session, project)
                quality = project_quality(session, project) if figures.answers else None
        finally:
            store.dispose()
        page = project_page(figures, SystemClock().now(), quality)
        write_bytes(out_path, page.encode("utf-8"))
        out.print(f"wrote the report of {figures.name} to {out_path}", markup=False)
