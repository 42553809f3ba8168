"""What every CLI command shares: settings, the store, one-line errors.

Errors (SPEC §9): every way a command can fail ends as one line on stderr,
`error: …`, and a non-zero exit. Domain errors are mapped by `handle_errors` on
each command; everything else — usage errors typer/click would print as a
boxed usage block, a database that cannot be reached, a bug — by the root
group, `OneLineErrors`. The exception is an invalid input with several problems
(a project spec, an items file): its line is followed by the problems, one per
line, so they can all be fixed in one round.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from typer.core import TyperGroup
from typer.exceptions import TyperException

from hdops.config import Settings, load_settings
from hdops.errors import HdopsError, InvalidInput
from hdops.files import check_output_file
from hdops.store.db import Store, normalize_url
from hdops.store.migrate import is_current
from hdops.store.sqlite_disk import disk_problem

P = ParamSpec("P")
R = TypeVar("R")

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:  # say which variable is wrong, and why
        wrong = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise HdopsError(f"invalid configuration: {wrong}") from None
    except Exception as exc:
        raise HdopsError(f"invalid configuration: {first_line(exc)}") from None


def open_store(*, require_current: bool = True) -> Store:
    """Open the configured database. Commands other than `db upgrade` need the
    current schema; a fresh SQLite file is upgraded automatically (embedded default).
    A URL SQLAlchemy cannot use, or a database that cannot be reached, is one line
    naming HDOPS_DATABASE_URL (password hidden)."""
    cfg = settings()
    where = safe_url(cfg.database_url)
    try:
        store = Store.from_url(cfg.database_url)
    except (ArgumentError, ImportError, ValueError) as exc:  # no such dialect or driver
        raise HdopsError(
            f"HDOPS_DATABASE_URL={where} is not a database URL hdops can use "
            f"({first_line(exc)}); e.g. sqlite:///hdops.db or postgresql://user@host/db"
        ) from None
    if store.dialect == "sqlite":
        _check_sqlite_file(store, where)
    try:
        current = is_current(store.engine)
        if require_current and not current:
            from hdops.store.migrate import current_revision, upgrade

            if store.dialect == "sqlite" and current_revision(store.engine) is None:
                upgrade(store.engine)
            else:
                raise HdopsError("the database schema is outdated: run `hdops db upgrade`")
    except DBAPIError as exc:
        store.dispose()
        cause = disk_problem(store.engine.url.database) if store.dialect == "sqlite" else None
        raise HdopsError(
            f"cannot open the database HDOPS_DATABASE_URL={where}: {cause or first_line(exc.orig)}"
        ) from None
    return store


def _check_sqlite_file(store: Store, where: str) -> None:
    """A SQLite database is a regular file (or not there yet): /dev/full or a
    folder would "open" and then fail, or read as an empty database."""
    name = store.engine.url.database
    if not name or name == ":memory:" or name.startswith("file:") or not Path(name).exists():
        return  # a missing folder: SQLite's own "unable to open database file"
    try:
        check_output_file(Path(name), "the database file")
    except InvalidInput as exc:
        store.dispose()
        raise HdopsError(f"cannot open HDOPS_DATABASE_URL={where}: {exc.message}") from None


def safe_url(url: str) -> str:
    """A database URL fit for an error message: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unreadable)"


def first_line(exc: BaseException | None) -> str:
    text = str(exc or "").strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def fail(message: str, code: int = 1) -> None:
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


# The terminal gets the first problems and a count of the rest, not 100k lines
# (a spec with a hundred thousand unknown keys, an items file of bad lines).
MAX_PROBLEMS_SHOWN = 50


def print_list(title: str | None, entries: Sequence[object], total: int) -> None:
    """`entries` (of `total`) on stderr, one `  - ` line each, at most
    MAX_PROBLEMS_SHOWN of them and then how many more there are."""
    if title:
        err.print(title, markup=False)
    for entry in entries[:MAX_PROBLEMS_SHOWN]:
        err.print(f"  - {entry}", markup=False)
    rest = total - min(len(entries), MAX_PROBLEMS_SHOWN)
    if rest > 0:
        err.print(f"  … and {rest} more", markup=False)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into one line on stderr and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except InvalidInput as exc:
            err.print(f"error: {exc.summary}", markup=False)
            print_list(None, exc.problems, len(exc.problems))
            raise typer.Exit(2) from None
        except HdopsError as exc:
            err.print(f"error: {one_line(exc.message)}", markup=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted", markup=False)
            raise typer.Exit(130) from None

    return wrapper


class OneLineErrors(TyperGroup):
    """The root `hdops` group. It runs commands in click's non-standalone mode and
    reports whatever escapes them as one `error:` line on stderr:

    * usage errors (missing option, unknown option or command, bad value) — which
      typer would print as a usage block and a box — with the command's `--help`
      named, exit 2;
    * a bare group (`hdops person`) prints its help on stdout, like `--help`;
    * a database error mid-command, exit 1;
    * anything else is a bug: one line naming a file that holds the traceback
      (`HDOPS_DEBUG=1` lets it through instead), exit 1.
    """

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except (TyperException, click.ClickException) as exc:
            ctx = getattr(exc, "ctx", None)
            if type(exc).__name__ == "NoArgsIsHelpError":
                # Help, not an error. (With rich, typer prints it while building the
                # exception, whose message is then empty.)
                text = exc.format_message()
                if text.strip():
                    out.print(text, markup=False, highlight=False)
                sys.exit(0)
            sys.exit(_report(_usage_line(exc, ctx), getattr(exc, "exit_code", 2)))
        except (typer.Abort, click.exceptions.Abort):
            sys.exit(_report("aborted", 1))
        except SQLAlchemyError as exc:
            cause = _sqlite_disk_problem()
            if cause:
                sys.exit(_report(f"cannot write the database: {cause}", 1))
            sys.exit(_report(f"database error: {first_line(getattr(exc, 'orig', exc))}", 1))
        except Exception as exc:
            if os.environ.get("HDOPS_DEBUG"):
                raise
            sys.exit(_report(_unexpected(exc), 1))
        sys.exit(result if isinstance(result, int) else 0)


def _sqlite_disk_problem() -> str | None:
    """A full or read-only disk under the configured SQLite file, if that is why a
    command failed (see `hdops.store.sqlite_disk`)."""
    try:
        url = make_url(normalize_url(settings().database_url))
    except Exception:
        return None
    return disk_problem(url.database) if url.get_backend_name() == "sqlite" else None


def one_line(text: str) -> str:
    """The boundary's promise is one line, whatever a message quotes."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _report(line: str, code: int) -> int:
    err.print(f"error: {one_line(line)}", markup=False, highlight=False)
    return code or 1


def _usage_line(exc: Exception, ctx: Any) -> str:
    """`Missing option '--reason'.` → `missing option '--reason' (see `hdops payouts
    adjust --help`)`: click's message on one line, and where to read more."""
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    message = " ".join(line.strip() for line in str(message).splitlines() if line.strip())
    message = message.rstrip(".") or "invalid usage"
    message = message[0].lower() + message[1:]
    path = getattr(ctx, "command_path", None)
    return f"{message} (see `{path} --help`)" if path else message


def _unexpected(exc: Exception) -> str:
    """A bug: the traceback goes to a file the line names, not onto the screen."""
    where = "the log"
    try:
        with tempfile.NamedTemporaryFile(
            "w", prefix="hdops-error-", suffix=".txt", delete=False, encoding="utf-8"
        ) as f:
            traceback.print_exception(exc, file=f)
            where = f.name
    except OSError:
        pass
    return (
        f"unexpected {exc.__class__.__name__}: {first_line(exc)} — this is a bug in hdops; "
        f"the traceback is in {where}"
    )


def echo_json(data: Any) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
