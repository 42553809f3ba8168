"""`hdops items import PROJECT FILE [--batch NAME] [--skip-invalid]` (SPEC §3) and
`hdops items requeue PROJECT --answered-before-version N` (SPEC §6b)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from hdops.cli.common import echo_json, err, handle_errors, open_store, out, print_list
from hdops.clock import utcnow
from hdops.errors import InvalidInput
from hdops.files import check_input_file
from hdops.services import audit
from hdops.services import items as svc
from hdops.services.requeue import requeue_by_version

app = typer.Typer(help="Items: import the things contractors label.", no_args_is_help=True)

# Below this a file imports in well under a second: no bar, no flicker.
PROGRESS_MIN_BYTES = 2_000_000


@app.command("import")
@handle_errors
def import_cmd(
    project: str = typer.Argument(..., help="Project name.", show_default=False),
    file: Path = typer.Argument(..., help="A .jsonl or .csv file of items.", show_default=False),
    batch: str | None = typer.Option(
        None, "--batch", help="Batch name for the new items (default: the file name)."
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Import the valid lines and report the others."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import items from FILE into PROJECT. Re-importing an id adds nothing; changed
    data replaces an item's data only while it has no answers.

    By default nothing is imported if any line is invalid; every problem is listed."""
    check_input_file(file, "items file")
    store = open_store()
    try:
        with _progress_bar(file) as progress, store.unit_of_work() as session:
            report = svc.import_items(
                session, project, file, batch=batch, skip_invalid=skip_invalid, progress=progress
            )
    except InvalidInput as exc:
        err.print(f"error: {exc.summary}", markup=False)
        print_list(None, exc.problems, getattr(exc, "total", len(exc.problems)))
        raise typer.Exit(2) from None
    finally:
        store.dispose()

    if as_json:
        echo_json(report.to_json())
        return
    out.print(
        f"{report.project} (batch {report.batch}): {report.added} added, "
        f"{report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.conflicts)} conflicts, {report.skipped_count} skipped",
        markup=False,
    )
    if report.conflicts:
        title = "conflicts (items with answers keep their data):"
        print_list(title, report.conflicts, len(report.conflicts))
    if report.skipped_count:
        print_list("skipped invalid lines:", report.skipped, report.skipped_count)


@app.command("requeue")
@handle_errors
def requeue_cmd(
    project: str = typer.Argument(..., help="Project name.", show_default=False),
    before: int = typer.Option(
        ...,
        "--answered-before-version",
        min=1,
        max=1_000_000,
        help="Requeue items whose answers were all given under versions older than this.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the count as JSON."),
) -> None:
    """Ask for fresh answers to items answered only under older instructions
    (`overlap` more each). Running it again requeues nothing new."""
    store = open_store()
    try:
        with store.unit_of_work() as session:
            count = requeue_by_version(
                session, project, before, utcnow(), None, **audit.cli_details()
            )
    finally:
        store.dispose()
    if as_json:
        echo_json({"project": project, "requeued": count})
        return
    out.print(
        f"{count} item(s) of {project} requeued for fresh answers under version {before} or later",
        markup=False,
    )


@contextmanager
def _progress_bar(file: Path) -> Iterator[svc.Progress | None]:
    """A byte-based bar on stderr for large files when stderr is a terminal."""
    try:
        size = file.stat().st_size
    except OSError:
        size = 0
    if size < PROGRESS_MIN_BYTES or not err.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("importing {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(file.name, total=size)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield advance
