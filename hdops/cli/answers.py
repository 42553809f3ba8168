"""`hdops answers reject` and `hdops clarifications` (SPEC §5 Review, §6)."""

from __future__ import annotations

from datetime import timedelta
from statistics import median

import typer
from rich.table import Table

from hdops.cli.common import echo_json, handle_errors, open_store, out
from hdops.clock import utcnow
from hdops.services import answers as answer_service
from hdops.services import clarifications as clar_service
from hdops.services.people import get_person
from hdops.services.projects import get_project
from hdops.store.orm import Person, Project

answers_app = typer.Typer(help="Answers: review.", no_args_is_help=True)


@answers_app.command("reject")
@handle_errors
def reject(
    answer_id: int = typer.Argument(..., help="Answer id (from the export or reports)."),
    reason: str = typer.Option(..., "--reason", help="Why; the contractor sees this."),
    as_person: str = typer.Option(..., "--as", help="Who rejects (a researcher or ops)."),
) -> None:
    """Reject an answer: not paid, its item goes back for another answer."""
    store = open_store()
    with store.unit_of_work() as session:
        actor = get_person(session, as_person)
        answer = answer_service.reject_answer(session, actor, answer_id, reason, utcnow())
        out.print(f"answer {answer.id} rejected; the contractor will be told why")


def _fmt(delta: timedelta | None) -> str:
    if delta is None:
        return "-"
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


@handle_errors
def clarifications(
    project: str | None = typer.Argument(None, help="Only this project."),
    only_open: bool = typer.Option(False, "--open", help="Only questions still open."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List clarification questions with their time to first answer."""
    store = open_store()
    with store.unit_of_work() as session:
        proj = get_project(session, project) if project else None
        rows = clar_service.list_clarifications(session, proj, only_open)
        data = []
        for c in rows:
            asker = session.get(Person, c.person_id)
            p = session.get(Project, c.project_id)
            first = c.first_answered_at - c.opened_at if c.first_answered_at else None
            data.append(
                {
                    "id": c.id,
                    "project": p.name if p else "?",
                    "asked_by": asker.name if asker else "?",
                    "status": c.status,
                    "question": c.question,
                    "opened_at": c.opened_at.isoformat(),
                    "time_to_first_answer_s": int(first.total_seconds()) if first else None,
                }
            )
    if as_json:
        echo_json(data)
        return
    table = Table("id", "project", "asked by", "status", "first answer", "question")
    for d in data:
        secs = d["time_to_first_answer_s"]
        table.add_row(
            str(d["id"]),
            str(d["project"]),
            str(d["asked_by"]),
            str(d["status"]),
            _fmt(timedelta(seconds=secs) if isinstance(secs, int) else None),
            str(d["question"])[:80],
        )
    out.print(table)
    answered = [
        d["time_to_first_answer_s"] for d in data if isinstance(d["time_to_first_answer_s"], int)
    ]
    if answered:
        out.print(
            f"{len(data)} questions; median time to first answer "
            f"{_fmt(timedelta(seconds=median(answered)))}"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(answers_app, name="answers")
    app.command("clarifications")(clarifications)
