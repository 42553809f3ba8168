"""Disputes of payout statement lines (SPEC §8), relayed like clarifications.

A contractor disputes one line of their own statement; the dispute opens a
thread in the ops channel (ref `dispute:N`) and a thread in the contractor's
DMs (ref `dispute-dm:N`), and replies in either are relayed to the other, with
mentions defanged. Ops accept it (an adjustment is booked: in the disputed week
while it is still a draft, else in the current week) or decline it with a
reason. A week with open disputes cannot be approved.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from hdops import intents
from hdops.chat import Form
from hdops.config import Settings
from hdops.domain.payouts import DisputeView, LineView, check_reason, parse_amount
from hdops.domain.relay import SharedFile, relay_text
from hdops.domain.weeks import IsoWeek
from hdops.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hdops.render import payouts as render
from hdops.services import audit
from hdops.services.payouts.actors import Actor
from hdops.services.payouts.adjustments import add_adjustment
from hdops.services.payouts.approval import week_is_approved
from hdops.services.payouts.views import dispute_view
from hdops.services.people import require_role
from hdops.services.relay import relay_to_thread
from hdops.store import payouts as q
from hdops.store.orm import Adjustment, Dispute, PayoutLine, PayoutStatement, Person

OPS_THREAD = "dispute:{id}"
CONTRACTOR_THREAD = "dispute-dm:{id}"


def _own_line(session: Session, person: Person, line_id: int) -> tuple[PayoutLine, PayoutStatement]:
    """The line, if it is on one of `person`'s statements (ids are never trusted)."""
    found = q.line_with_statement(session, line_id)
    if found is None:
        raise NotFound("That statement line no longer exists.")
    line, stmt = found
    if stmt.person_id != person.id:
        raise PermissionDenied(
            "You can only dispute lines of your own statement.",
            actor_id=person.id,
            subject=f"payout-line:{line_id}",
        )
    return line, stmt


def _line_view(line: PayoutLine) -> LineView:
    return LineView(
        line.id,
        line.position,
        line.kind,
        line.description,
        line.quantity,
        line.unit_amount,
        line.amount,
    )


def get_dispute(session: Session, dispute_id: int) -> Dispute:
    dispute = session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound(f"no dispute #{dispute_id}")
    return dispute


def view(session: Session, dispute: Dispute) -> DisputeView:
    ids = [dispute.person_id] + ([dispute.resolved_by] if dispute.resolved_by else [])
    return dispute_view(session, dispute, q.people(session, ids))


def dispute_form(session: Session, person: Person, line_id: int) -> Form:
    line, stmt = _own_line(session, person, line_id)
    existing = q.open_dispute_on_line(session, line.id)
    if existing is not None:
        raise Conflict(f"Your dispute #{existing.id} about this line is still open.")
    return render.dispute_form(_line_view(line), stmt.currency)


def open_dispute(
    session: Session, person: Person, line_id: int, reason: str, now: datetime
) -> Dispute:
    line, stmt = _own_line(session, person, line_id)
    reason = check_reason(reason)
    existing = q.open_dispute_on_line(session, line.id)
    if existing is not None:
        raise Conflict(f"Your dispute #{existing.id} about this line is still open.")
    dispute = Dispute(
        line_id=line.id,
        person_id=person.id,
        week=stmt.week,
        reason=reason,
        status="open",
        opened_at=now,
        refs={},
    )
    session.add(dispute)
    session.flush()
    shown = view(session, dispute)
    intents.to_ops(session, render.dispute_post(shown), now, ref=OPS_THREAD.format(id=dispute.id))
    intents.dm(
        session,
        person.id,
        render.dispute_opened(shown),
        now,
        ref=CONTRACTOR_THREAD.format(id=dispute.id),
    )
    audit.record(
        session,
        "payout.dispute.open",
        f"dispute:{dispute.id}",
        actor_id=person.id,
        at=now,
        week=stmt.week,
        line=line.id,
    )
    return dispute


def resolve_form(session: Session, actor: Person, dispute_id: int, accept: bool) -> Form:
    require_role(session, actor, "ops", action="resolve payout disputes")
    dispute = get_dispute(session, dispute_id)
    if dispute.status != "open":
        raise Conflict(f"Dispute #{dispute.id} is already {dispute.status}.")
    return render.resolve_form(view(session, dispute), accept)


def resolve_dispute(
    session: Session,
    actor: Actor,
    dispute_id: int,
    *,
    accept: bool,
    note: str,
    amount: str | None,
    now: datetime,
    settings: Settings,
) -> tuple[Dispute, Adjustment | None]:
    """Accept (book `amount` as an adjustment) or decline (with a reason)."""
    if actor.person is not None:
        require_role(session, actor.person, "ops", action="resolve payout disputes")
    dispute = get_dispute(session, dispute_id)
    if dispute.status != "open":
        raise Conflict(f"Dispute #{dispute.id} is already {dispute.status}.")
    note = check_reason(note, "note" if accept else "reason for declining")
    adjustment = None
    if accept:
        if amount is None or not amount.strip():
            raise InvalidInput("Give the correction amount (e.g. 4.00 or -2.50).")
        found = q.line_with_statement(session, dispute.line_id)
        assert found is not None
        _, stmt = found
        value = parse_amount(amount, "correction", stmt.currency)
        person = session.get(Person, dispute.person_id)
        assert person is not None
        week = IsoWeek.parse(dispute.week)
        if week_is_approved(session, week):
            week = IsoWeek.containing(now, settings.ops_tz)
            while week_is_approved(session, week):
                week = week.shift(1)
        adjustment = add_adjustment(
            session,
            actor,
            person.name,
            value,
            f"dispute #{dispute.id} ({dispute.week}): {note}",
            week,
            now,
            settings,
            currency=stmt.currency,
            source=f"dispute:{dispute.id}",
            notify=False,
        )
    dispute.status = "accepted" if accept else "declined"
    dispute.resolution = note
    dispute.resolved_by = actor.person_id
    dispute.resolved_at = now
    session.flush()
    shown = view(session, dispute)
    intents.edit(session, OPS_THREAD.format(id=dispute.id), render.dispute_post(shown), now)
    intents.in_thread(
        session,
        CONTRACTOR_THREAD.format(id=dispute.id),
        render.dispute_resolved(shown, adjustment.week if adjustment else None),
        now,
    )
    audit.record(
        session,
        f"payout.dispute.{dispute.status}",
        f"dispute:{dispute.id}",
        actor_id=actor.person_id,
        at=now,
        note=note,
        adjustment=adjustment.id if adjustment else None,
        **actor.audit_details(),
    )
    return dispute, adjustment


def relay_from_ops(
    session: Session,
    author: Person,
    dispute_id: int,
    text: str,
    now: datetime,
    *,
    files: Sequence[SharedFile] = (),
    edited: bool = False,
) -> None:
    """A reply in the ops thread goes to the contractor's dispute thread."""
    text = relay_text(text, files)
    require_role(session, author, "ops", action="answer payout disputes")
    dispute = get_dispute(session, dispute_id)
    relay_to_thread(
        session,
        CONTRACTOR_THREAD.format(id=dispute.id),
        author.display_name,
        "ops",
        text,
        now,
        edited=edited,
    )


def relay_from_contractor(
    session: Session,
    author: Person,
    dispute_id: int,
    text: str,
    now: datetime,
    *,
    files: Sequence[SharedFile] = (),
    edited: bool = False,
) -> None:
    """The contractor's reply in their dispute thread goes to the ops thread."""
    text = relay_text(text, files)
    dispute = get_dispute(session, dispute_id)
    if author.id != dispute.person_id:
        raise PermissionDenied(
            "Only the person who opened the dispute can reply here.",
            actor_id=author.id,
            subject=f"dispute:{dispute.id}",
        )
    relay_to_thread(
        session,
        OPS_THREAD.format(id=dispute.id),
        author.display_name,
        "contractor",
        text,
        now,
        edited=edited,
    )


def list_disputes(
    session: Session, week: IsoWeek | None = None, *, only_open: bool = False
) -> list[DisputeView]:
    return [
        view(session, d)
        for d in q.disputes(session, str(week) if week else None, only_open=only_open)
    ]
