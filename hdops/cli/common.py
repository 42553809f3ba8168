"""What every CLI command shares: settings, the store, one-line errors."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from hdops.config import Settings, load_settings
from hdops.errors import HdopsError, InvalidInput
from hdops.store.db import Store
from hdops.store.migrate import is_current

P = ParamSpec("P")
R = TypeVar("R")

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def settings() -> Settings:
    try:
        return load_settings()
    except Exception as exc:  # pydantic ValidationError: say which variable is wrong
        raise HdopsError(f"invalid configuration: {exc}".splitlines()[0]) from None


def open_store(*, require_current: bool = True) -> Store:
    """Open the configured database. Commands other than `db upgrade` need the
    current schema; a fresh SQLite file is upgraded automatically (embedded default)."""
    cfg = settings()
    store = Store.from_url(cfg.database_url)
    if require_current and not is_current(store.engine):
        from hdops.store.migrate import current_revision, upgrade

        if store.dialect == "sqlite" and current_revision(store.engine) is None:
            upgrade(store.engine)
        else:
            raise HdopsError("the database schema is outdated: run `hdops db upgrade`")
    return store


def fail(message: str, code: int = 1) -> None:
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into one line on stderr and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except InvalidInput as exc:
            err.print(f"error: {exc.summary}", markup=False)
            for problem in exc.problems:
                err.print(f"  - {problem}", markup=False)
            raise typer.Exit(2) from None
        except HdopsError as exc:
            err.print(f"error: {exc.message}", markup=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted", markup=False)
            raise typer.Exit(130) from None

    return wrapper


def echo_json(data: Any) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
