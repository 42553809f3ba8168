"""`hdops db upgrade|current`."""

from __future__ import annotations

import typer

from hdops.cli.common import handle_errors, open_store, out
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
