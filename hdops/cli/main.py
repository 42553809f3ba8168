"""Root of the `hdops` CLI: registers every feature's commands."""

from __future__ import annotations

import typer

from hdops.cli import (
    answers,
    db,
    export,
    items,
    outbox,
    payouts,
    people,
    projects,
    report,
    review,
    shifts,
)
from hdops.cli.common import OneLineErrors

app = typer.Typer(
    name="hdops",
    cls=OneLineErrors,  # every error is one line on stderr (SPEC §9)
    help="Human-data operations: tasks, questions, shifts and pay through chat.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.add_typer(db.app, name="db")
app.add_typer(projects.app, name="project")
app.add_typer(items.app, name="items")
export.register(app)
people.register(app)
answers.register(app)
review.register(app)
shifts.register(app)
payouts.register(app)
report.register(app)
app.add_typer(outbox.app, name="outbox")


def main() -> None:
    app()
