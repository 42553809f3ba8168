"""Weekly payouts (SPEC §8): draft, show, adjust, approve, export.

The ledger is what the store already holds — accepted answers with the per-task
rate they were given at, check-ins with the hourly rate snapshot taken at
check-in, and ops adjustments — so a later rate change never rewrites past
earnings. A week's statements are *derived* from that ledger with SQL
aggregates (`hdops.store.payouts`) and priced by the pure rules in
`hdops.domain.payouts`.

A draft may be recomputed any number of times (`draft_week` is idempotent and
keeps line ids stable, so disputes keep pointing at their line). Approval locks
the week: from then on the ORM and database triggers refuse any change to its
statements, lines and adjustments. Corrections go into a later week — ops add
an adjustment, an accepted dispute books one, and an answer rejected after its
week was approved is taken back automatically in the next drafted week.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from hdops import intents
from hdops.config import Settings, load_settings
from hdops.domain.money import money_text, rate_text, round_money
from hdops.domain.payouts import (
    AdjustmentEntry,
    DisputeView,
    HoursGroup,
    LineDraft,
    LineView,
    RejectedGroup,
    StatementDraft,
    StatementInputs,
    StatementView,
    TaskGroup,
    WeekView,
    build_statement,
    check_reason,
    clipped_seconds,
    format_hours,
    parse_amount,
    quantity_text,
)
from hdops.domain.weeks import IsoWeek
from hdops.errors import Conflict, InvalidInput
from hdops.files import replacing
from hdops.render import payouts as render
from hdops.services import audit
from hdops.services.export import neutralize_csv_cell
from hdops.services.people import get_person, require_role
from hdops.store import payouts as q
from hdops.store.orm import Adjustment, Dispute, PayoutLine, PayoutStatement, PayoutWeek, Person

SUMMARY_KEY = "payouts:summary:{week}"  # outbox dedupe key of the Monday ops summary
SUMMARY_REF = "payouts:{week}"  # message ref of that summary (edited on approval)
STATEMENT_KEY = "payouts:statement:{id}"  # dedupe key of a contractor's statement DM
STATEMENT_REF = "payout:{id}"  # message ref of that DM (edited when the draft changes)
APPROVED_KEY = "payouts:approved:{id}"


# --------------------------------------------------------------------------- actors


@dataclass(frozen=True)
class Actor:
    """Who does a payout action, for the audit log: a person (chat, `--as`), or the
    operating-system user running the CLI."""

    person: Person | None
    via: str  # chat | cli | job

    @property
    def person_id(self) -> int | None:
        return self.person.id if self.person is not None else None

    @property
    def label(self) -> str:
        if self.person is not None:
            return self.person.display_name
        return f"{self.via}:{audit.os_user()}"

    def audit_details(self) -> dict[str, Any]:
        details: dict[str, Any] = {"via": self.via}
        if self.person is None:
            details["os_user"] = audit.os_user()
        return details


def cli_actor(session: Session, as_person: str | None) -> Actor:
    """The CLI's actor: `--as PERSON` (must hold ops), else the OS user."""
    if as_person is None:
        return Actor(None, "cli")
    person = get_person(session, as_person)
    require_role(session, person, "ops", action="manage payouts")
    return Actor(person, "cli")


def _require_ops(session: Session, actor: Actor, action: str) -> None:
    if actor.person is not None:
        require_role(session, actor.person, "ops", action=action)


# --------------------------------------------------------------------------- drafting


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


def week_is_approved(session: Session, week: IsoWeek) -> bool:
    """Whether the week is approved. Callers are about to book something into it, so
    its row is locked (on PostgreSQL) and it cannot become approved before they commit:
    an approval in flight makes them wait, then they see it approved."""
    row = q.lock_week_row(session, str(week))
    return row is not None and row.status == "approved"


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
    for g in q.answer_groups(session, start, end, person_id):
        s = slot(g.person_id, g.currency)
        s.task_seconds += int(g.seconds)
        if g.status == "accepted":
            s.tasks.append(
                TaskGroup(g.project_id, names.get(g.project_id, "?"), g.rate, int(g.count))
            )
        elif g.status == "rejected":
            rejected_count += int(g.count)
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
    new_statements: list[tuple[PayoutStatement, StatementDraft]] = []
    for (pid, currency), draft in sorted(drafts.items()):
        stmt = existing.pop((pid, currency), None)
        if stmt is None:
            stmt = PayoutStatement(
                person_id=pid,
                week=key,
                currency=currency,
                total=draft.total,
                tasks=draft.tasks,
                seconds_worked=draft.seconds_worked,
                active_seconds=draft.active_seconds,
                status="draft",
                created_at=now,
            )
            session.add(stmt)
            new_statements.append((stmt, draft))
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
    # New statements' lines in one executemany (a first draft writes thousands of them).
    q.insert_lines(
        session,
        [
            {
                "statement_id": stmt.id,
                "position": position,
                "key": line.key,
                "kind": line.kind,
                "project_id": line.project_id,
                "description": line.description,
                "quantity": line.quantity,
                "unit_amount": line.unit_amount,
                "amount": line.amount,
            }
            for stmt, draft in new_statements
            for position, line in enumerate(draft.lines, start=1)
        ],
    )
    result.created = [stmt.id for stmt, _ in new_statements]
    return result


# --------------------------------------------------------------------------- views


def week_view(
    session: Session,
    week: IsoWeek,
    now: datetime,
    settings: Settings,
    *,
    person_id: int | None = None,
) -> WeekView:
    """The week as stored (drafts or the approved snapshot), for rendering."""
    key = str(week)
    row = q.get_week(session, key)
    stmts = q.statements(session, key, person_id)
    all_disputes = q.disputes(session, key)
    people = q.people(
        session,
        [s.person_id for s in stmts]
        + [d.person_id for d in all_disputes]
        + [d.resolved_by for d in all_disputes if d.resolved_by is not None]
        + ([row.approved_by] if row is not None and row.approved_by is not None else []),
    )
    open_by_line = {d.line_id: d.id for d in all_disputes if d.status == "open"}
    projects = q.project_names(session) if stmts else {}
    views = []
    for s in stmts:
        person = people.get(s.person_id)
        views.append(
            StatementView(
                id=s.id,
                person_id=s.person_id,
                name=person.name if person else "?",
                display_name=person.display_name if person else "?",
                week=week,
                currency=s.currency,
                status=s.status,
                total=round_money(s.total, s.currency),  # stored with 4 places
                tasks=s.tasks,
                seconds_worked=s.seconds_worked,
                active_seconds=s.active_seconds,
                lines=tuple(
                    LineView(
                        id=line.id,
                        position=line.position,
                        kind=line.kind,
                        description=line.description,
                        quantity=line.quantity,
                        unit_amount=line.unit_amount,
                        amount=round_money(line.amount, s.currency),
                        open_dispute=open_by_line.get(line.id),
                        project=projects.get(line.project_id, "") if line.project_id else "",
                    )
                    for line in s.lines
                ),
                floor=settings.min_hourly,
            )
        )
    shown = [d for d in all_disputes if person_id is None or d.person_id == person_id]
    approver = people.get(row.approved_by) if row is not None and row.approved_by else None
    return WeekView(
        week=week,
        tz=settings.ops_tz,
        status="none" if row is None else row.status,
        ended=now >= week.end(settings.ops_tz),
        statements=tuple(views),
        disputes=tuple(dispute_view(session, d, people) for d in shown),
        approved_at=row.approved_at if row is not None else None,
        approved_by=approver.display_name if approver is not None else None,
        floor=settings.min_hourly,
    )


def dispute_view(session: Session, d: Dispute, people: dict[int, Person]) -> DisputeView:
    found = q.line_with_statement(session, d.line_id)
    line, stmt = found if found is not None else (None, None)
    person = people.get(d.person_id)
    resolver = people.get(d.resolved_by) if d.resolved_by else None
    return DisputeView(
        id=d.id,
        line_id=d.line_id,
        person_id=d.person_id,
        person=person.display_name if person else "?",
        week=d.week,
        reason=d.reason,
        status=d.status,
        line=f"line {line.position}: {line.description}" if line is not None else "?",
        amount=line.amount if line is not None else Decimal(0),
        currency=stmt.currency if stmt is not None else "",
        resolution=d.resolution,
        resolved_by=resolver.display_name if resolver else None,
    )


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
    _refresh_sent_statements(session, result, week, now, settings)
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


def _refresh_sent_statements(
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


# --------------------------------------------------------------------------- the weekly job


@dataclass(frozen=True)
class WeeklyRun:
    week: IsoWeek
    statements: int
    created: int
    dms_queued: int
    summary_queued: bool


def run_weekly_payouts(
    session: Session, now: datetime, settings: Settings | None = None
) -> WeeklyRun:
    """The Monday 09:00 job: draft the previous ISO week (ops timezone), post the ops
    summary with Approve, and DM every contractor their own statement.

    Idempotent: running it twice, or again after a restart, drafts one set of
    statements (drafting is idempotent) and queues each message once (outbox dedupe
    keys per week and per statement)."""
    settings = settings or load_settings()
    week = IsoWeek.containing(now, settings.ops_tz).shift(-1)
    result = draft_week(session, week, now, settings)
    _refresh_sent_statements(session, result, week, now, settings)
    return publish_week(session, week, now, settings, created=len(result.created))


def publish_week(
    session: Session, week: IsoWeek, now: datetime, settings: Settings, *, created: int = 0
) -> WeeklyRun:
    """Queue the ops summary and each contractor's statement, once each."""
    view = week_view(session, week, now, settings)
    summary_key = SUMMARY_KEY.format(week=week)
    summary_new = not q.outbox_key_used(session, summary_key)
    if summary_new:
        mark_shown(session, week)
        intents.to_ops(
            session,
            render.week_summary(view, render.summary_chart(view)),
            now,
            dedupe_key=summary_key,
            ref=SUMMARY_REF.format(week=week),
        )
    queued = 0
    for s in view.statements:
        key = STATEMENT_KEY.format(id=s.id)
        if q.outbox_key_used(session, key):
            continue
        intents.dm(
            session,
            s.person_id,
            render.statement_message(s, disputable=True),
            now,
            ref=STATEMENT_REF.format(id=s.id),
            dedupe_key=key,
        )
        queued += 1
        stmt = session.get(PayoutStatement, s.id)
        if stmt is not None and stmt.status == "draft" and stmt.sent_at is None:
            stmt.sent_at = now
    return WeeklyRun(week, len(view.statements), created, queued, summary_new)


# --------------------------------------------------------------------------- approval


@dataclass(frozen=True)
class Approval:
    # approved | already | needs_confirmation (below the floor: --force) |
    # changed (not what ops were last shown: `view` shows it now, approve again)
    status: str
    view: WeekView


def approve_week(
    session: Session,
    actor: Actor,
    week: IsoWeek,
    now: datetime,
    settings: Settings,
    *,
    force: bool = False,
) -> Approval:
    """Lock the week's pay. Refused while the week is running, while disputes are
    open, while a check-in that overlaps the week is still open (its hours are not
    known yet), or when the statements changed since ops were last shown them
    (an adjustment, a late answer, a corrected check-in): then the result is
    `changed` with the refreshed view, which counts as shown, so approving again
    approves what ops have now seen. Effective rates below `HDOPS_MIN_HOURLY`
    need `force` (ops are warned first)."""
    _require_ops(session, actor, "approve payouts")
    key = str(week)
    row = q.lock_week_row(session, key)
    if row is not None and row.status == "approved":
        return Approval("already", week_view(session, week, now, settings))
    if now < week.end(settings.ops_tz):
        raise Conflict(
            f"{week} has not ended yet (it ends {week.end(settings.ops_tz):%Y-%m-%d %H:%M} UTC); "
            "approve it once it is over."
        )
    open_disputes = q.disputes(session, key, only_open=True)
    if open_disputes:
        ids = ", ".join(f"#{d.id}" for d in open_disputes)
        raise Conflict(
            f"{week} has {len(open_disputes)} open dispute(s) ({ids}); accept or decline "
            "them before approving."
        )
    still_open = q.open_time_spans_before(session, week.end(settings.ops_tz))
    if still_open:
        names = q.people(session, [span.person_id for span in still_open])
        who = ", ".join(
            f"{names[span.person_id].display_name} (since "
            f"{span.started_at.astimezone(settings.ops_zone):%a %Y-%m-%d %H:%M})"
            for span in still_open
            if span.person_id in names
        )
        raise Conflict(
            f"{week} can't be approved yet: still checked in: {who}. Their hours are known "
            "once the check-in closes (at checkout, the shift's end, or by itself after "
            f"{settings.checkin_idle_minutes} min without activity)."
        )
    result = draft_week(session, week, now, settings)
    _refresh_sent_statements(session, result, week, now, settings)
    row = q.get_week(session, key)
    if row is not None and row.revision != row.shown_revision:
        mark_shown(session, week)
        changed = week_view(session, week, now, settings)
        if q.outbox_key_used(session, SUMMARY_KEY.format(week=week)):  # keep it current
            intents.edit(session, SUMMARY_REF.format(week=week), render.week_summary(changed), now)
        return Approval("changed", changed)
    view = week_view(session, week, now, settings)
    if not view.statements:
        raise Conflict(f"{week} has no statements to approve.")
    if view.below_floor and not force:
        return Approval("needs_confirmation", view)
    stmts = q.statements(session, key)
    for stmt in stmts:
        stmt.status = "approved"
        stmt.approved_at = now
        stmt.approved_by = actor.person_id
    session.flush()  # statements first: the week's lock then forbids touching them
    row = q.get_week(session, key)
    assert row is not None  # draft_week created it with the statements
    row.status = "approved"
    row.approved_at = now
    row.approved_by = actor.person_id
    session.flush()
    totals = {c: money_text(t, c) for c, t in view.totals.items()}
    audit.record(
        session,
        "payout.approve",
        f"week:{key}",
        actor_id=actor.person_id,
        at=now,
        statements=len(stmts),
        totals=totals,
        below_floor=[s.name for s in view.below_floor],
        **actor.audit_details(),
    )
    approved = week_view(session, week, now, settings)
    if q.outbox_key_used(session, SUMMARY_KEY.format(week=week)):
        intents.edit(session, SUMMARY_REF.format(week=week), render.week_summary(approved), now)
    for s in approved.statements:
        intents.dm(
            session,
            s.person_id,
            render.statement_approved(s),
            now,
            dedupe_key=APPROVED_KEY.format(id=s.id),
        )
    return Approval("approved", approved)


# --------------------------------------------------------------------------- adjustments


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
    _require_ops(session, actor, "add payout adjustments")
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
        _refresh_sent_statements(session, result, week, now, settings)
    if notify:
        intents.dm(session, person.id, render.adjustment_added(week, value, cur, reason), now)
    return adjustment


# --------------------------------------------------------------------------- export

EXPORT_COLUMNS = (
    "week",
    "statement_id",
    "status",
    "person",
    "display_name",
    "currency",
    "line",
    "kind",
    "project",
    "description",
    "quantity",
    "unit_amount",
    "amount",
    "statement_total",
)


def export_rows(view: WeekView) -> list[list[str]]:
    """One row per statement line. Text cells are neutralised against spreadsheet
    formulas; numbers are ours (a negative amount must stay a number)."""
    rows = []
    for s in view.statements:
        for line in s.lines:
            rows.append(
                [
                    str(view.week),
                    str(s.id),
                    s.status,
                    neutralize_csv_cell(s.name),
                    neutralize_csv_cell(s.display_name),
                    s.currency,
                    str(line.position),
                    line.kind,
                    neutralize_csv_cell(line.project),
                    neutralize_csv_cell(line.description),
                    quantity_text(line.kind, line.quantity),
                    rate_text(line.unit_amount, s.currency),
                    money_text(line.amount, s.currency),
                    money_text(s.total, s.currency),
                ]
            )
    return rows


def export_week_csv(
    session: Session,
    week: IsoWeek,
    out: Path,
    now: datetime,
    settings: Settings,
    *,
    include_draft: bool = False,
) -> tuple[WeekView, int]:
    """Write the week's statement lines to `out` (atomically). Only an approved
    week is exported for payment unless `include_draft`."""
    view = week_view(session, week, now, settings)
    if view.status != "approved" and not include_draft:
        raise Conflict(
            f"{week} is not approved yet; approve it first, or pass --include-draft for a preview."
        )
    rows = export_rows(view)
    with replacing(out) as partial, partial.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(rows)
    return view, len(rows)


# --------------------------------------------------------------------------- JSON


def view_json(view: WeekView) -> dict[str, Any]:
    """The week for scripts: money as exact decimal strings, never floats."""

    def statement(s: StatementView) -> dict[str, Any]:
        rate = s.effective_hourly
        return {
            "id": s.id,
            "person": s.name,
            "display_name": s.display_name,
            "currency": s.currency,
            "status": s.status,
            "tasks": s.tasks,
            "hours": f"{s.hours:f}",
            "active_hours": format_hours(s.active_seconds),
            "total": money_text(s.total, s.currency),
            "effective_hourly": None if rate is None else money_text(rate, s.currency),
            "below_floor": s.below_floor,
            "lines": [
                {
                    "id": line.id,
                    "position": line.position,
                    "kind": line.kind,
                    "description": line.description,
                    "quantity": quantity_text(line.kind, line.quantity),
                    "unit_amount": rate_text(line.unit_amount, s.currency),
                    "amount": money_text(line.amount, s.currency),
                    "open_dispute": line.open_dispute,
                }
                for line in s.lines
            ],
        }

    return {
        "week": str(view.week),
        "timezone": view.tz,
        "starts": view.week.start(view.tz).isoformat(),
        "ends": view.week.end(view.tz).isoformat(),
        "status": view.status,
        "ended": view.ended,
        "approved_at": view.approved_at.isoformat() if view.approved_at else None,
        "approved_by": view.approved_by,
        "floor": None if view.floor is None else rate_text(view.floor),
        "totals": {c: money_text(t, c) for c, t in view.totals.items()},
        "statements": [statement(s) for s in view.statements],
        "disputes": [
            {
                "id": d.id,
                "line_id": d.line_id,
                "person": d.person,
                "status": d.status,
                "reason": d.reason,
                "resolution": d.resolution,
            }
            for d in view.disputes
        ],
    }
