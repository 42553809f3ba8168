"""Why a contractor gets no task, and what they were last told: paused projects,
items other contractors hold, and the fingerprint of the reasons last given."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select, update

from hdops.store.dispatch.candidates import assigned_to_me
from hdops.store.orm import ContractorProfile, Item, Project
from hdops.store.prepared import Prepared, Tx

# Paused projects, in the order active ones are offered (`projects.ACTIVE_PROJECTS`):
# only read when a contractor gets no task, to tell them why (see
# `hdops.services.dispatch.assign_next`).
PAUSED_PROJECTS = Prepared(
    select(Project.id, Project.updated_at)
    .where(Project.status == "paused")
    .order_by(Project.priority.desc(), Project.id)
)

# Items of a project that still need answers and that this contractor has not had:
# if none has an open slot, other contractors hold them.
UNFINISHED_NOT_MINE = Prepared(
    select(func.count(Item.id)).where(
        Item.project_id == bindparam("project_id"),
        Item.is_gold.is_(False),
        Item.answer_count < Item.target,
        ~assigned_to_me,
    )
)

NO_TASK_TOLD = Prepared(
    select(ContractorProfile.no_task_told).where(
        ContractorProfile.person_id == bindparam("person_id")
    )
)

SET_NO_TASK_TOLD = Prepared(
    update(ContractorProfile)
    .where(ContractorProfile.person_id == bindparam("person_id"))
    .values(no_task_told=bindparam("key"))
)


def paused_projects(tx: Tx) -> list[tuple[int, datetime]]:
    """(id, updated_at) of the paused projects, highest priority first."""
    return [(r[0], r[1]) for r in tx.rows(PAUSED_PROJECTS)]


def unfinished_not_mine(tx: Tx, project_id: int, person_id: int) -> int:
    """How many items of the project still need answers that the person has not had."""
    params = {"project_id": project_id, "person_id": person_id}
    return int(tx.scalar(UNFINISHED_NOT_MINE, params) or 0)


def no_task_told(tx: Tx, person_id: int) -> str | None:
    """The fingerprint of the no-task reasons the contractor was last told."""
    found: str | None = tx.scalar(NO_TASK_TOLD, {"person_id": person_id})
    return found


def set_no_task_told(tx: Tx, person_id: int, key: str) -> None:
    tx.execute(SET_NO_TASK_TOLD, {"person_id": person_id, "key": key})
    tx.expire_if_loaded(ContractorProfile, person_id, ["no_task_told"])
