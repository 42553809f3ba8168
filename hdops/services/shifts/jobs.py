"""The scheduled actions of a shift (SPEC §7): reminders, the start (available,
first task pushed), the no-show report, the end, and closing a check-in left open.

Changes when what happens around a shift's times changes. The scheduler
(`schedules.jobs`) calls `run_shift_job`; each action records a marker in the
same transaction as its effect, so it happens once however often the job runs,
and a job planned for an older revision of the shift does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hdops import intents
from hdops.config import Settings
from hdops.render import shifts as render
from hdops.services import audit, dispatch
from hdops.services.scheduling import NO_SHOW_AFTER, marker, marker_kind
from hdops.services.shifts.shifts import contractor_profile, person_of, tell, view, zone_of
from hdops.store import dispatch as dispatch_q
from hdops.store import outbox
from hdops.store import shifts as q
from hdops.store.orm import Shift

log = logging.getLogger(__name__)

NO_SHOW_LOOKBACK = timedelta(hours=1)  # a check-in this long before the start counts


def run_shift_job(
    session: Session, kind: str, shift_id: int, revision: int, *, settings: Settings, now: datetime
) -> bool:
    """Do one scheduled action of a shift, once. False when there was nothing to do:
    the shift is gone, changed since the job was planned, or the action was done."""
    shift = session.get(Shift, shift_id)
    if shift is None or shift.revision != revision or shift.status not in q.LIVE:
        log.info("shift job %s for shift %s r%s: stale, nothing to do", kind, shift_id, revision)
        return False
    key = marker(shift.id, revision, kind)
    if not outbox.first_delivery(session, key, now):
        log.info("shift job %s already done", key)
        return False
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise ValueError(f"unknown shift job kind {kind!r}")
    handler(session, shift, key, settings, now)
    return True


def _remind(session: Session, shift: Shift, key: str, settings: Settings, now: datetime) -> None:
    if shift.status != "scheduled":
        return
    person = person_of(session, shift.person_id)
    kind = marker_kind(key)
    intents.dm(
        session,
        person.id,
        render.reminder(view(session, shift), zone_of(person, settings), kind),
        now,
        dedupe_key=key,
    )


def _start(session: Session, shift: Shift, key: str, settings: Settings, now: datetime) -> None:
    if shift.status != "scheduled":
        return
    person = person_of(session, shift.person_id)
    zone = zone_of(person, settings)
    v = view(session, shift)
    if shift.role == "researcher":
        intents.dm(
            session,
            person.id,
            render.shift_started(v, zone, pushed=False, checked_in=True),
            now,
            dedupe_key=key,
        )
        return
    profile = contractor_profile(person)
    profile.available = True
    had_task = dispatch_q.open_task(session, person.id) is not None
    assignment = dispatch.assign_next_task(session, person, now, only_new=True)
    checked = q.open_entry(session, person.id) is not None
    started = render.shift_started(
        v, zone, pushed=assignment is not None or had_task, checked_in=checked
    )
    intents.dm(session, person.id, started, now, dedupe_key=key)
    if assignment is not None:
        dispatch.show_task(session, assignment, now)


def _no_show(session: Session, shift: Shift, key: str, settings: Settings, now: datetime) -> None:
    if shift.status != "scheduled" or shift.role != "contractor":
        return
    if q.checked_in_between(session, shift.person_id, shift.starts_at - NO_SHOW_LOOKBACK, now):
        return
    shift.status = "no_show"
    shift.no_show_reported_at = now
    person = person_of(session, shift.person_id)
    if person.profile is not None:
        person.profile.available = False  # nobody is there to take the pushes
    minutes = int(NO_SHOW_AFTER.total_seconds() // 60)
    intents.to_ops(
        session,
        render.no_show(view(session, shift), settings.ops_zone, minutes),
        now,
        dedupe_key=key,
    )
    audit.record(session, "shift.no_show", f"shift:{shift.id}", at=now, person=person.name)


def _end(session: Session, shift: Shift, key: str, settings: Settings, now: datetime) -> None:
    if shift.role != "contractor":
        return
    person = person_of(session, shift.person_id)
    following = q.current_shift(session, person.id, max(now, shift.ends_at))
    if following is None and person.profile is not None:
        person.profile.available = False


def _close(session: Session, shift: Shift, key: str, settings: Settings, now: datetime) -> None:
    entry = q.open_entry(session, shift.person_id)
    if entry is not None and entry.started_at < shift.ends_at:
        entry.ended_at = max(shift.ends_at, entry.started_at)
        entry.auto_closed = True
        person = person_of(session, shift.person_id)
        v = view(session, shift)
        intents.to_ops(
            session,
            render.auto_closed(
                person.display_name, v, settings.ops_zone, entry.started_at, entry.ended_at
            ),
            now,
            dedupe_key=key,
        )
        tell(
            session,
            person.id,
            render.auto_closed_for_contractor(
                entry.id, v, zone_of(person, settings), entry.ended_at
            ),
            now,
        )
        audit.record(session, "time.auto_close", person.name, at=now, shift=shift.id)
    if shift.status == "scheduled":
        shift.status = "done"


_HANDLERS = {
    "remind24h": _remind,
    "remind15": _remind,
    "start": _start,
    "noshow": _no_show,
    "end": _end,
    "close": _close,
}
