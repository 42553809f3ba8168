"""`hdops db upgrade|current|backup`."""

from __future__ import annotations

from pathlib import Path

import typer

from hdops.cli.common import handle_errors, open_store, out
from hdops.errors import HdopsError
from hdops.store.backup import BackupError, backup_sqlite
from hdops.store.migrate import current_revision, head_revision, upgrade

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
@handle_errors
def upgrade_cmd() -> None:
    """Apply all migrations to the configured database (HDOPS_DATABASE_URL)."""
    store = open_store(require_current=False)
    before = current_revision(store.engine)
    upgrade(store.engine)
    after = current_revision(store.engine)
    if before == after:
        out.print(f"database already at {after}")
    else:
        out.print(f"database upgraded {before or 'empty'} -> {after}")


@app.command("current")
@handle_errors
def current_cmd() -> None:
    """Print the schema revision of the database and the latest one."""
    store = open_store(require_current=False)
    out.print(f"database: {current_revision(store.engine) or 'empty'}; latest: {head_revision()}")


@app.command("backup")
@handle_errors
def backup_cmd(
    path: Path = typer.Argument(..., help="The new file to write the copy to."),
) -> None:
    """Copy a SQLite store to PATH while hdops keeps running (SQLite's online backup).
    On PostgreSQL use pg_dump (README, "Scaling out")."""
    store = open_store(require_current=False)
    try:
        if store.dialect != "sqlite":
            raise HdopsError(
                "hdops db backup copies a SQLite store; on PostgreSQL use "
                "pg_dump --format=custom (see the README, Scaling out)"
            )
        revision = current_revision(store.engine)
        try:
            made = backup_sqlite(store.engine, path)
        except BackupError as exc:
            raise HdopsError(f"backup failed: {exc}") from None
    finally:
        store.dispose()
    out.print(f"backed up to {made.path} ({made.bytes:,} bytes, schema {revision or 'empty'})")
