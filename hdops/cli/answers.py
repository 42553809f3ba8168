"""`hdops answers reject` and `hdops clarifications` (SPEC §5 Review, §6)."""

from __future__ import annotations

import typer
from rich.table import Table

from hdops.cli.common import echo_json, handle_errors, open_store, out
from hdops.clock import utcnow
from hdops.domain.inputs import MAX_ID
from hdops.render import clarifications as clar_render
from hdops.services import answers as answer_service
from hdops.services import clarifications as clar_service
from hdops.services.people import get_person
from hdops.services.projects import get_project

answers_app = typer.Typer(help="Answers: review.", no_args_is_help=True)


@answers_app.command("reject")
@handle_errors
def reject(
    answer_id: int = typer.Argument(
        ..., min=1, max=MAX_ID, help="Answer id (from the export or reports)."
    ),
    reason: str = typer.Option(..., "--reason", help="Why; the contractor sees this."),
    as_person: str = typer.Option(..., "--as", help="Who rejects (a researcher or ops)."),
) -> None:
    """Reject an answer: not paid, its item goes back for another answer."""
    store = open_store()
    with store.unit_of_work() as session:
        actor = get_person(session, as_person)
        answer = answer_service.reject_answer(session, actor, answer_id, reason, utcnow())
        out.print(f"answer {answer.id} rejected; the contractor will be told why")


@handle_errors
def clarifications(
    project: str | None = typer.Argument(None, help="Only this project."),
    only_open: bool = typer.Option(False, "--open", help="Only questions still open."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List clarification questions with their time to first answer."""
    store = open_store()
    now = utcnow()
    try:
        with store.unit_of_work() as session:
            proj = get_project(session, project) if project else None
            rows = clar_service.summaries(session, proj, only_open)
    finally:
        store.dispose()
    if as_json:
        echo_json(
            [
                {
                    "id": r.id,
                    "project": r.project,
                    "asked_by": r.asked_by,
                    "status": r.status,
                    "question": r.question,
                    "opened_at": r.opened_at.isoformat(),
                    "time_to_first_answer_s": (
                        int(r.time_to_first_answer.total_seconds())
                        if r.time_to_first_answer is not None
                        else None
                    ),
                }
                for r in rows
            ]
        )
        return
    table = Table("id", "project", "asked by", "status", "first answer", "question")
    for r in rows:
        table.add_row(
            str(r.id),
            r.project,
            r.asked_by,
            r.status,
            clar_render.first_answer_text(r, now),
            r.question[:80],
        )
    out.print(table)
    line = clar_render.median_line(rows)
    if line is not None:
        out.print(line, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(answers_app, name="answers")
    app.command("clarifications")(clarifications)
