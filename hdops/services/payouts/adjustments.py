"""Adjustments: bonuses and corrections booked by ops (SPEC §8).

Changes when how a correction is booked changes. A week that is approved never
changes, so corrections go into a later week: ops add an adjustment here, an
accepted dispute books one (`hdops.services.disputes`), and an answer rejected
after its week was approved is taken back when the next week is drafted.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from hdops import intents
from hdops.config import Settings
from hdops.domain.payouts import check_reason, parse_amount
from hdops.domain.weeks import IsoWeek
from hdops.errors import Conflict, InvalidInput
from hdops.render import payouts as render
from hdops.services import audit
from hdops.services.payouts.actors import Actor, require_ops
from hdops.services.payouts.approval import week_is_approved
from hdops.services.payouts.drafting import draft_week, refresh_sent_statements
from hdops.services.people import get_person
from hdops.store import payouts as q
from hdops.store.orm import Adjustment


def add_adjustment(
    session: Session,
    actor: Actor,
    person_ref: str,
    amount: str | Decimal,
    reason: str,
    week: IsoWeek,
    now: datetime,
    settings: Settings,
    *,
    currency: str | None = None,
    source: str | None = None,
    notify: bool = True,
) -> Adjustment:
    """Ops book a bonus or correction for a person in a week that is not approved."""
    require_ops(session, actor, "add payout adjustments")
    person = get_person(session, person_ref)
    cur = (currency or (person.profile.currency if person.profile else None) or "USD").upper()
    if len(cur) != 3 or not cur.isalpha():
        raise InvalidInput(f"currency must be a 3-letter ISO code such as USD, not {cur!r}")
    value = parse_amount(amount, currency=cur)
    reason = check_reason(reason)
    if week_is_approved(session, week):
        raise Conflict(
            f"{week} is approved and can no longer change; book the correction in a later "
            f"week (e.g. --week {IsoWeek.containing(now, settings.ops_tz)})."
        )
    adjustment = Adjustment(
        person_id=person.id,
        week=str(week),
        amount=value,
        currency=cur,
        reason=reason,
        created_by=actor.person_id,
        created_at=now,
        source=source,
    )
    session.add(adjustment)
    session.flush()
    audit.record(
        session,
        "payout.adjust",
        f"adjustment:{adjustment.id}",
        actor_id=actor.person_id,
        at=now,
        person=person.name,
        week=str(week),
        amount=str(value),
        currency=cur,
        reason=reason,
        source=source,
        **actor.audit_details(),
    )
    if q.get_week(session, str(week)) is not None:  # already drafted: keep it current
        result = draft_week(session, week, now, settings, person_id=person.id)
        refresh_sent_statements(session, result, week, now, settings)
    if notify:
        intents.dm(session, person.id, render.adjustment_added(week, value, cur, reason), now)
    return adjustment
