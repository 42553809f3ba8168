"""Requeue by instruction version (SPEC §6b): `hdops items requeue PROJECT
--answered-before-version N` asks for fresh answers to the items answered only
under instructions older than version N.

Such an item is asked for `overlap` more answers (its target becomes its
answers that stand plus the project's overlap; see
`hdops.store.items.requeue_answered_before`). Its old answers stay — they are
what they are, under the version they record — and the contractors who gave
them are not offered the item again (nobody gets an item twice), so fresh
answers come from others. Running it again changes nothing until the data
changes: an item already asked for its fresh answers is left alone, and one
that has an answer under version N or later no longer qualifies. N may not be
newer than the current version (nobody could answer under it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hdops.errors import InvalidInput
from hdops.services import audit, dispatch
from hdops.services.projects import current_version, get_project
from hdops.store import items as item_store


def requeue_by_version(
    session: Session,
    project_name: str,
    before_version: int,
    now: datetime,
    actor_id: int | None = None,
    **details: Any,
) -> int:
    """Requeue the project's items answered only before `before_version`; how many.
    Contractors waiting for work are offered the reopened items at once."""
    project = get_project(session, project_name)
    latest = current_version(session, project.id).version
    if not 1 <= before_version <= latest:
        raise InvalidInput(
            f"--answered-before-version must be between 1 and {latest}, "
            f"the current instruction version of {project.name}"
        )
    count = item_store.requeue_answered_before(session, project.id, before_version, project.overlap)
    audit.record(
        session,
        "items.requeue",
        project.name,
        actor_id=actor_id,
        at=now,
        before_version=before_version,
        items=count,
        **details,
    )
    if count and project.status == "active":
        dispatch.push_tasks(session, now)
    return count
