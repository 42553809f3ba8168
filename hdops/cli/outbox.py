"""`hdops outbox list|retry`: messages still waiting to be delivered, and failed ones."""

from __future__ import annotations

import typer

from hdops.cli.common import echo_json, handle_errors, open_store, out
from hdops.clock import utcnow
from hdops.domain.inputs import MAX_ID
from hdops.errors import InvalidInput
from hdops.services import outbox as outbox_service
from hdops.services.people import get_person, require_role

app = typer.Typer(help="Messages waiting to be delivered, and failed ones.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_cmd(
    failed: bool = typer.Option(False, "--failed", help="Only messages that failed for good."),
    limit: int = typer.Option(200, "--limit", min=1, max=MAX_ID, help="At most this many rows."),
    as_json: bool = typer.Option(False, "--json", help="JSON for scripts."),
) -> None:
    """Messages not delivered yet (waiting for a retry, or failed), oldest first."""
    store = open_store()
    with store.read() as session:
        rows = outbox_service.waiting(session, failed_only=failed, limit=limit)
    if as_json:
        echo_json([row._asdict() for row in rows])
        return
    if not rows:
        out.print("no failed messages" if failed else "nothing waiting: every message was sent")
        return
    for row in rows:
        when = (
            f"next try {row.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
            if row.status == "pending"
            else "failed for good"
        )
        out.print(
            f"#{row.id} {row.status} to {row.lane}, {row.attempts} attempt(s), "
            f"created {row.created_at:%Y-%m-%d %H:%M} UTC, {when}",
            markup=False,
        )
        out.print(f"    error: {row.last_error or '-'}", markup=False)
        out.print(f"    message: {row.summary or '-'}", markup=False)


@app.command("retry")
@handle_errors
def retry_cmd(
    ids: list[int] = typer.Argument(
        None, min=1, max=MAX_ID, help="Outbox row ids (see `hdops outbox list --failed`)."
    ),
    all_failed: bool = typer.Option(False, "--all", help="Every failed message."),
    as_person: str | None = typer.Option(
        None, "--as", help="Who does it (needs the ops role); default: your OS user."
    ),
) -> None:
    """Send failed messages again (after fixing the cause); the retry is audited."""
    if bool(ids) == all_failed:
        raise InvalidInput("give the ids to retry, or --all (not both)")
    store = open_store()
    with store.unit_of_work() as session:
        actor_id = None
        if as_person is not None:
            person = get_person(session, as_person)
            require_role(session, person, "ops", action="retry messages")
            actor_id = person.id
        chosen = outbox_service.retry_failed(
            session, None if all_failed else ids, utcnow(), actor_id
        )
    if not chosen:
        out.print("no failed messages to retry")
        return
    out.print(
        f"{len(chosen)} message(s) queued again: {', '.join(map(str, chosen))}; "
        "a running `hdops run` sends them within a second."
    )
