"""Drafting a week's statements from the ledger (SPEC §8).

Changes when how pay is computed from the ledger, or how a draft is kept in the
store, changes. A week's statements are *derived* from the ledger with SQL
aggregates (`hdops.store.payouts`) and priced by the pure rules in
`hdops.domain.payouts`.

A draft may be recomputed any number of times (`draft_week` is idempotent and
keeps line ids stable, so disputes keep pointing at their line). Each change to
a draft bumps the week's `revision`; `mark_shown` records the revision ops have
seen, which is what approval checks. A statement already sent to its contractor
is edited in place when a redraft changes it (`refresh_sent_statements`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from hdops import intents
from hdops.config import Settings
from hdops.domain.payouts import (
    AdjustmentEntry,
    HoursGroup,
    LineDraft,
    RejectedGroup,
    StatementDraft,
    StatementInputs,
    TaskGroup,
    WeekView,
    build_statement,
    clipped_seconds,
)
from hdops.domain.weeks import IsoWeek
from hdops.render import payouts as render
from hdops.services import audit
from hdops.services.payouts.keys import STATEMENT_REF
from hdops.services.payouts.views import week_view
from hdops.store import payouts as q
from hdops.store.orm import Adjustment, PayoutLine, PayoutStatement, PayoutWeek

# An answer flagged for review (SPEC §6b) is paid like an accepted one until review
# rejects it: a flag is a question, not a verdict. Rejected before its week is
# approved, the redraft leaves it out; rejected after, the next week's draft takes
# the money back (`_book_late_rejections`), as for any rejection. Accepted in
# review, nothing changes. So a draft never waits on the queue, and an approved
# statement never needs changing for it.
PAID_STATUSES = ("accepted", "flagged")


@dataclass
class DraftResult:
    week: IsoWeek
    created: list[int] = field(default_factory=list)  # statement ids
    changed: list[int] = field(default_factory=list)  # existing statements updated
    removed: int = 0

    @property
    def any_change(self) -> bool:
        return bool(self.created or self.changed or self.removed)


def _bounds(week: IsoWeek, settings: Settings) -> tuple[datetime, datetime]:
    return week.start(settings.ops_tz), week.end(settings.ops_tz)


def _inputs(
    session: Session, week: IsoWeek, now: datetime, settings: Settings, person_id: int | None
) -> dict[tuple[int, str], StatementInputs]:
    """Everything earned in the week, per (person, currency), from SQL aggregates."""
    start, end = _bounds(week, settings)
    names = q.project_names(session)
    inputs: dict[tuple[int, str], StatementInputs] = {}

    def slot(person: int, currency: str) -> StatementInputs:
        key = (person, currency)
        if key not in inputs:
            inputs[key] = StatementInputs(person_id=person, currency=currency)
        return inputs[key]

    rejected_count = 0
    paid: dict[tuple[int, str, int, Decimal], int] = defaultdict(int)
    for g in q.answer_groups(session, start, end, person_id):
        s = slot(g.person_id, g.currency)
        s.task_seconds += int(g.seconds)
        if g.status in PAID_STATUSES:
            paid[(g.person_id, g.currency, g.project_id, g.rate)] += int(g.count)
        elif g.status == "rejected":
            rejected_count += int(g.count)
    for (person, currency, project_id, rate), count in paid.items():
        slot(person, currency).tasks.append(
            TaskGroup(project_id, names.get(project_id, "?"), rate, count)
        )
    rejected: dict[tuple[int, str, int, Decimal, str], list[str]] = defaultdict(list)
    for r in _rejected_details(session, start, end, person_id, rejected_count):
        rejected[(r.person_id, r.currency, r.project_id, r.rate, r.reason)].append(r.item)
    for (person, currency, project_id, rate, reason), items in rejected.items():
        slot(person, currency).rejected.append(
            RejectedGroup(project_id, names.get(project_id, "?"), rate, reason, tuple(items))
        )
    hours: dict[tuple[int, str, Decimal | None], int] = defaultdict(int)
    for span in q.time_spans(session, start, end, person_id):
        hourly, cur = span.hourly_rate, span.currency
        if hourly is None:  # no snapshot: the rate in force at check-in, if any
            found = q.rate_at(session, span.person_id, span.started_at)
            if found is not None:
                hourly, cur = found
        seconds = clipped_seconds(span.started_at, span.ended_at, start, end)
        if seconds > 0:
            hours[(span.person_id, cur, hourly)] += seconds
    for (person, cur, hourly), seconds in hours.items():
        slot(person, cur).hours.append(HoursGroup(hourly, seconds))
    for adj in q.adjustments(session, str(week), person_id):
        slot(adj.person_id, adj.currency).adjustments.append(
            AdjustmentEntry(adj.id, adj.amount, adj.reason)
        )
    return inputs


def _rejected_details(
    session: Session, start: datetime, end: datetime, person_id: int | None, expected: int
) -> list[q.RejectedAnswer]:
    """Rejected answers with reasons: through the audit log (cheap) when it accounts
    for every rejected answer the aggregate counted, else by scanning the week."""
    if expected == 0:
        return []
    found = q.rejected_answers_by_audit(session, start, end, person_id)
    if len(found) == expected:
        return found
    return q.rejected_answers(session, start, end, person_id)


def _book_late_rejections(
    session: Session, week: IsoWeek, now: datetime, settings: Settings, person_id: int | None
) -> None:
    """Answers rejected after their week was approved were paid: take the money back
    with one adjustment each in this (later, unapproved) week. `source` makes it once."""
    approved = q.approved_weeks_before(session, str(week))
    if not approved:
        return
    approved_at = {w.week: w.approved_at for w in approved if w.approved_at is not None}
    if not approved_at:
        return
    names = q.project_names(session)
    for r in q.late_rejections(session, min(approved_at.values())):
        if person_id is not None and r.person_id != person_id:
            continue
        paid_week = str(IsoWeek.containing(r.answered_at, settings.ops_tz))
        when = approved_at.get(paid_week)
        if when is None or r.rejected_at is None or r.rejected_at < when:
            continue  # not paid yet: its own week shows it as rejected
        source = f"rejected:{r.answer_id}"
        if q.adjustment_by_source(session, source) is not None:
            continue
        session.add(
            Adjustment(
                person_id=r.person_id,
                week=str(week),
                amount=-r.rate,
                currency=r.currency,
                reason=f"answer to item {r.item} ({names.get(r.project_id, '?')}) paid in "
                f"{paid_week} was rejected later: {r.reason}",
                created_by=None,
                created_at=now,
                source=source,
            )
        )
        audit.record(
            session,
            "payout.correction",
            f"answer:{r.answer_id}",
            at=now,
            week=str(week),
            paid_week=paid_week,
            amount=str(-r.rate),
        )
    session.flush()


def _line_tuple(line: PayoutLine | LineDraft, position: int) -> tuple[Any, ...]:
    return (
        line.kind,
        line.project_id,
        line.description,
        Decimal(line.quantity).quantize(Decimal("0.0001")),
        Decimal(line.unit_amount).quantize(Decimal("0.0001")),
        Decimal(line.amount).quantize(Decimal("0.0001")),
        position,
    )


def _sync_statement(
    session: Session, stmt: PayoutStatement, draft: StatementDraft, disputed: set[int]
) -> bool:
    """Make a draft statement match `draft`, keeping line ids by key. True if changed."""
    changed = False
    by_key = {line.key: line for line in stmt.lines}
    position = 0
    for ld in draft.lines:
        position += 1
        line = by_key.pop(ld.key, None)
        if line is None:
            stmt.lines.append(
                PayoutLine(
                    position=position,
                    key=ld.key,
                    kind=ld.kind,
                    project_id=ld.project_id,
                    description=ld.description,
                    quantity=ld.quantity,
                    unit_amount=ld.unit_amount,
                    amount=ld.amount,
                )
            )
            changed = True
        elif _line_tuple(line, line.position) != _line_tuple(ld, position):
            line.position, line.kind, line.project_id = position, ld.kind, ld.project_id
            line.description, line.quantity = ld.description, ld.quantity
            line.unit_amount, line.amount = ld.unit_amount, ld.amount
            changed = True
    for line in sorted(by_key.values(), key=lambda x: x.position):
        changed = True
        if line.id in disputed:
            # A disputed line stays (the dispute points at it) but no longer pays.
            position += 1
            line.position = position
            if not line.description.startswith("(no longer applies) "):
                line.description = "(no longer applies) " + line.description
            line.quantity = line.amount = Decimal(0)
        else:
            stmt.lines.remove(line)
    total = sum((line.amount for line in stmt.lines), Decimal(0))
    figures = (draft.tasks, draft.seconds_worked, draft.active_seconds)
    if stmt.total != total or (stmt.tasks, stmt.seconds_worked, stmt.active_seconds) != figures:
        stmt.total = total
        stmt.tasks, stmt.seconds_worked, stmt.active_seconds = figures
        changed = True
    return changed


def draft_week(
    session: Session,
    week: IsoWeek,
    now: datetime,
    settings: Settings,
    *,
    person_id: int | None = None,
) -> DraftResult:
    """Create or refresh the draft statements of `week` (everyone's, or one person's).

    Idempotent: a second call with nothing new changes nothing. An approved week is
    never touched (and the store would refuse it anyway). The week's row is locked
    first, like `approve_week` does: a draft that starts while the week is being
    approved waits, then finds it approved (otherwise it could rewrite statements
    between the approval's last look and its commit)."""
    result = DraftResult(week)
    key = str(week)
    row = q.lock_week_row(session, key)
    if row is not None and row.status == "approved":
        return result
    _book_late_rejections(session, week, now, settings, person_id)
    drafts = {
        k: build_statement(v) for k, v in _inputs(session, week, now, settings, person_id).items()
    }
    if row is None and drafts:
        # The week row first: statements are checked against it (in memory) as they go in.
        row = PayoutWeek(week=key, status="draft", drafted_at=now)
        session.add(row)
        session.flush()
        created_row = True
    else:
        created_row = False
    existing = {(s.person_id, s.currency): s for s in q.statements(session, key, person_id)}
    disputed = q.disputed_line_ids(session, key) if existing else set()
    new_statements: list[tuple[tuple[int, str], StatementDraft]] = []
    for (pid, currency), draft in sorted(drafts.items()):
        stmt = existing.pop((pid, currency), None)
        if stmt is None:
            new_statements.append(((pid, currency), draft))
        elif _sync_statement(session, stmt, draft, disputed):
            result.changed.append(stmt.id)
    for stmt in existing.values():  # nothing earned any more (e.g. all rejected)
        if any(line.id in disputed for line in stmt.lines):
            if _sync_statement(
                session,
                stmt,
                StatementDraft(stmt.person_id, stmt.currency, (), 0, 0, 0),
                disputed,
            ):
                result.changed.append(stmt.id)
        else:
            session.delete(stmt)
            result.removed += 1
    if row is not None and (new_statements or result.changed or result.removed):
        row.revision = (row.revision or 0) + 1  # ops have not seen this yet
        if not created_row:
            row.drafted_at = now
    session.flush()
    _insert_new(session, key, now, new_statements, result)
    return result


def _insert_new(
    session: Session,
    week: str,
    now: datetime,
    new: list[tuple[tuple[int, str], StatementDraft]],
    result: DraftResult,
) -> None:
    """New statements and their lines in bulk, not through the unit of work: a
    first draft writes a thousand statements and ten thousand lines, and flushing
    them as ORM objects cost more than reading the week. The ORM's flush guard
    (`payout_guards`) does not see these rows; `draft_week` has checked under the
    week's row lock that the week is not approved, and the triggers check again."""
    ids = q.insert_statements(
        session,
        week,
        [
            {
                "person_id": pid,
                "week": week,
                "currency": currency,
                "total": draft.total,
                "tasks": draft.tasks,
                "seconds_worked": draft.seconds_worked,
                "active_seconds": draft.active_seconds,
                "status": "draft",
                "created_at": now,
            }
            for (pid, currency), draft in new
        ],
    )
    q.insert_lines(
        session,
        [
            {
                "statement_id": ids[slot],
                "position": position,
                "key": line.key,
                "kind": line.kind,
                "project_id": line.project_id,
                "description": line.description,
                "quantity": line.quantity,
                "unit_amount": line.unit_amount,
                "amount": line.amount,
            }
            for slot, draft in new
            for position, line in enumerate(draft.lines, start=1)
        ],
    )
    result.created = [ids[slot] for slot, _ in new]


def earnings_so_far(
    session: Session, week: IsoWeek, now: datetime, settings: Settings, person_id: int
) -> list[StatementDraft]:
    """One person's week priced exactly as a draft prices it, without storing
    anything (a contractor's `/hdops me` mid-week): one per currency. Corrections
    for answers rejected after an earlier week was paid are booked by drafting,
    so only those already booked show here."""
    inputs = _inputs(session, week, now, settings, person_id)
    return [build_statement(inputs[key]) for key in sorted(inputs)]


def show_week(
    session: Session,
    week: IsoWeek,
    now: datetime,
    settings: Settings,
    *,
    person_id: int | None = None,
) -> WeekView:
    """Draft on demand (unless approved) and return the view: what `/hdops payouts`
    and `hdops payouts show` print. A contractor's call drafts only their own."""
    result = draft_week(session, week, now, settings, person_id=person_id)
    refresh_sent_statements(session, result, week, now, settings)
    if person_id is None:
        mark_shown(session, week)
    return week_view(session, week, now, settings, person_id=person_id)


def mark_shown(session: Session, week: IsoWeek) -> None:
    """Ops have just been shown every statement of the week as it is now (the
    Monday summary, `payouts show`, `/hdops payouts`, a refused approval): from
    here, approving approves what they saw."""
    row = q.get_week(session, str(week))
    if row is not None and row.status != "approved" and row.shown_revision != row.revision:
        row.shown_revision = row.revision


def refresh_sent_statements(
    session: Session, result: DraftResult, week: IsoWeek, now: datetime, settings: Settings
) -> None:
    """A statement already sent to its contractor is edited in place when it changes."""
    if not result.changed:
        return
    view = week_view(session, week, now, settings)
    by_id = {s.id: s for s in view.statements}
    for stmt_id in result.changed:
        stmt = session.get(PayoutStatement, stmt_id)
        if stmt is None or stmt.sent_at is None or stmt_id not in by_id:
            continue
        intents.edit(
            session, STATEMENT_REF.format(id=stmt_id), render.statement_message(by_id[stmt_id]), now
        )
