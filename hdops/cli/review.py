"""`hdops review PROJECT` (SPEC §6b): list the answers flagged for review, or
decide them in bulk — `--accept ID...`, `--reject ID... --reason TEXT`, or
`--all` instead of ids. Without `--as` the CLI acts as ops (the OS user, audited);
`--as PERSON` acts as that researcher or ops person."""

from __future__ import annotations

import typer
from rich.table import Table
from rich.text import Text

from hdops.cli.common import echo_json, handle_errors, open_store, out
from hdops.clock import utcnow
from hdops.domain.inputs import MAX_ID
from hdops.domain.review import reasons_text, split_reasons
from hdops.errors import InvalidInput
from hdops.services import review as svc
from hdops.services.people import get_person


@handle_errors
def review(
    project: str = typer.Argument(..., help="Project name.", show_default=False),
    ids: list[int] = typer.Argument(
        None, min=1, max=MAX_ID, help="Answer ids to decide (with --accept or --reject)."
    ),
    accept: bool = typer.Option(False, "--accept", help="Accept the answers: out of the queue."),
    reject: bool = typer.Option(
        False, "--reject", help="Reject the answers: not paid, items re-queued, contractor told."
    ),
    reason: str | None = typer.Option(
        None, "--reason", help="Why they are rejected; the contractor sees this."
    ),
    every: bool = typer.Option(False, "--all", help="Decide every flagged answer of the project."),
    as_person: str | None = typer.Option(
        None,
        "--as",
        help="Who decides (ops, or a researcher of the project); default: you, as ops.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List the answers flagged for review, or accept or reject them in bulk."""
    deciding = accept or reject
    if accept and reject:
        raise InvalidInput("choose --accept or --reject, not both")
    if not deciding and (ids or every or reason):
        raise InvalidInput("say what to do with them: --accept or --reject")
    if deciding and bool(ids) == every:
        raise InvalidInput("give the answer ids to decide, or --all (not both)")
    if accept and reason:
        raise InvalidInput("--reason goes with --reject (an accepted answer needs none)")
    if reject and not (reason or "").strip():
        raise InvalidInput("--reject needs --reason TEXT (the contractor sees it)")
    store = open_store()
    try:
        with store.unit_of_work() as session:
            reviewer = svc.Reviewer(get_person(session, as_person) if as_person else None)
            proj = svc.open_queue(session, project, reviewer)
            if deciding:
                decision = svc.decide(
                    session,
                    proj,
                    reviewer,
                    accept=accept,
                    ids=None if every else ids,
                    reason=reason,
                    now=utcnow(),
                )
            else:
                rows = svc.queue(session, proj)
                name = proj.name
    finally:
        store.dispose()
    if deciding:
        if as_json:
            echo_json({"decision": decision.verdict, "answers": list(decision.ids)})
        elif not decision.ids:
            out.print("no flagged answers to decide")
        else:
            told = "; contractors told why, items re-queued" if reject else ""
            out.print(f"{len(decision.ids)} answer(s) {decision.verdict}{told}", markup=False)
        return
    if as_json:
        echo_json(
            [
                {
                    "id": r.id,
                    "item": r.item,
                    "contractor": r.person,
                    "answer": r.answer,
                    "seconds": r.seconds,
                    "reasons": list(split_reasons(r.reasons)),
                }
                for r in rows
            ]
        )
        return
    if not rows:
        out.print(f"no flagged answers in {name}", markup=False)
        return
    table = Table("id", "item", "contractor", "answer", "s", "why")
    for r in rows:
        table.add_row(
            str(r.id),
            Text(r.item),
            Text(r.person),
            Text(r.answer[:60]),
            str(r.seconds),
            reasons_text(r.reasons),
        )
    out.print(table)
    out.print(
        f"{len(rows)} flagged; decide with `hdops review {name} --accept ID...` or "
        f"`--reject ID... --reason TEXT` (or --all)",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.command("review")(review)
