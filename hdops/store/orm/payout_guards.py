"""Flush-time guards that keep an approved payout week from ever changing.

Importing this module registers the SQLAlchemy event listeners on the payout
models; `hdops.store.orm` imports it, so every session is guarded."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event, inspect, select
from sqlalchemy.orm import Mapper, Session, object_session

from hdops.errors import Conflict
from hdops.store.orm.payouts import Adjustment, PayoutLine, PayoutStatement, PayoutWeek


class ApprovedPayoutChange(Conflict):
    """A write would change an approved payout week. Raised inside a flush, so no
    code path (service, command, script) can change what was approved; the database
    triggers (migrations 0003, 0008, 0012) refuse the same writes made with
    plain SQL."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"Approved payouts never change ({what}); "
            "book a correction as an adjustment in a later week."
        )


def _week_is_approved(connection: Connection, week: str, target: object = None) -> bool:
    """Whether `week` is approved. A week row already loaded in the target's session
    answers from memory (drafting inserts a thousand statements of one week); else
    one query. The database triggers check again either way."""
    session = object_session(target) if target is not None else None
    if session is not None:
        loaded = session.identity_map.get(Session.identity_key(PayoutWeek, week))
        if isinstance(loaded, PayoutWeek):
            return bool(_committed(loaded, "status") == "approved")
    status = connection.execute(
        select(PayoutWeek.status).where(PayoutWeek.week == week)
    ).scalar_one_or_none()
    return status == "approved"


def _statement_is_approved(connection: Connection, statement_id: int | None) -> bool:
    if statement_id is None:
        return False
    status = connection.execute(
        select(PayoutStatement.status).where(PayoutStatement.id == statement_id)
    ).scalar_one_or_none()
    return status == "approved"


def _committed(target: Any, attr: str) -> Any:
    """The value of `attr` as loaded from the database (before this flush's change)."""
    history = inspect(target).attrs[attr].history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return getattr(target, attr)


@event.listens_for(PayoutWeek, "before_update")
@event.listens_for(PayoutWeek, "before_delete")
def _guard_week(_m: Mapper[Any], _c: Connection, target: PayoutWeek) -> None:
    if _committed(target, "status") == "approved":
        raise ApprovedPayoutChange(f"week {target.week}")


@event.listens_for(PayoutStatement, "before_insert")
def _guard_new_statement(_m: Mapper[Any], connection: Connection, target: PayoutStatement) -> None:
    if _week_is_approved(connection, target.week, target):
        raise ApprovedPayoutChange(f"new statement in week {target.week}")


@event.listens_for(PayoutStatement, "before_update")
@event.listens_for(PayoutStatement, "before_delete")
def _guard_statement(_m: Mapper[Any], _c: Connection, target: PayoutStatement) -> None:
    if _committed(target, "status") == "approved":
        raise ApprovedPayoutChange(f"statement {target.id}")


@event.listens_for(PayoutLine, "before_insert")
@event.listens_for(PayoutLine, "before_update")
@event.listens_for(PayoutLine, "before_delete")
def _guard_line(_m: Mapper[Any], connection: Connection, target: PayoutLine) -> None:
    ids = {_committed(target, "statement_id"), target.statement_id}
    parent = inspect(target).attrs["statement"].loaded_value
    if isinstance(parent, PayoutStatement):
        # The statement is in the session: its status as loaded (or as about to be
        # inserted) answers without a query per line; the triggers still check.
        state = inspect(parent)
        status = parent.status if state.pending else _committed(parent, "status")
        if status == "approved":
            raise ApprovedPayoutChange(f"line of statement {parent.id}")
        ids.discard(parent.id)
    if any(_statement_is_approved(connection, i) for i in ids if i is not None):
        raise ApprovedPayoutChange(f"line of statement {target.statement_id}")


@event.listens_for(Adjustment, "before_insert")
@event.listens_for(Adjustment, "before_update")
@event.listens_for(Adjustment, "before_delete")
def _guard_adjustment(_m: Mapper[Any], connection: Connection, target: Adjustment) -> None:
    for week in {_committed(target, "week"), target.week}:
        if week is not None and _week_is_approved(connection, week, target):
            raise ApprovedPayoutChange(f"adjustment in week {week}")
