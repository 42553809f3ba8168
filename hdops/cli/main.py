"""Root of the `hdops` CLI: registers every feature's commands."""

from __future__ import annotations

import importlib

import typer

from hdops.cli.common import OneLineErrors

app = typer.Typer(
    name="hdops",
    cls=OneLineErrors,  # every error is one line on stderr (SPEC §9)
    help="Human-data operations: tasks, questions, shifts and pay through chat.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# (module, sub-command name or None for commands registered on the root app)
_FEATURES: list[tuple[str, str | None]] = [
    ("hdops.cli.db", "db"),
    ("hdops.cli.projects", "project"),
    ("hdops.cli.items", "items"),
    ("hdops.cli.export", None),
    ("hdops.cli.people", None),
    ("hdops.cli.answers", None),
    ("hdops.cli.shifts", None),
    ("hdops.cli.payouts", None),
    ("hdops.cli.quality", None),
    ("hdops.cli.outbox", "outbox"),
]


def _register() -> None:
    for module_name, group in _FEATURES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # feature not built yet
            raise
        if group is None:
            module.register(app)
        else:
            app.add_typer(module.app, name=group)


_register()


def main() -> None:
    app()
