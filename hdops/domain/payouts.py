"""Payout rules (SPEC §8) as pure functions: weeks, rounding, statement lines.

Everything here is exact `Decimal` arithmetic on data already read from the
store, so the rules can be tested exhaustively (hypothesis) without a database:

* a line's amount is rounded once, half-up to the currency's minor unit (the
  cent for USD: `hdops.domain.money.round_money`), from the quantity and rate
  printed on the line; a statement's total is the exact sum of its rounded
  lines, so the total always equals the sum of the lines;
* checked-in time is paid in hundredths of an hour (36-second steps, half-up):
  the unit the statement shows, so "1.25 h × 18.50/h = 23.13" can be checked
  with the numbers on the line. Showing rounded hours next to an amount computed
  from the exact seconds would not add up ("0.05 h × 12/h = 0.66"); showing
  seconds would be exact but uncheckable by a reader;
* currencies are never mixed: a statement has one currency, and so does every
  line in it;
* weeks are ISO weeks whose boundaries are Monday 00:00 in the ops timezone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from hdops.domain.money import decimals, format_rate, parse_decimal, quantum, round_money
from hdops.domain.weeks import IsoWeek
from hdops.errors import InvalidInput

SECONDS_PER_HOUR = Decimal(3600)
HOUR_STEP = Decimal("0.01")  # checked-in time is paid in hundredths of an hour
MAX_ADJUSTMENT = Decimal("1000000")
MAX_REASON = 1000


# --------------------------------------------------------------------------- money


def parse_amount(text: str | Decimal, what: str = "amount", currency: str = "USD") -> Decimal:
    """A money amount typed by a person: a decimal with at most the currency's
    decimals (2 for USD, none for JPY), not zero."""
    value = parse_decimal(text, what)
    places = decimals(currency)
    if value != value.quantize(quantum(currency)):
        unit = f"at most {places} decimal places" if places else "no decimal places"
        raise InvalidInput(f"{what} has {unit} in {currency.upper()}, not {text!r}")
    if value == 0:
        raise InvalidInput(f"{what} must not be zero")
    if abs(value) >= MAX_ADJUSTMENT:
        raise InvalidInput(f"{what} must be less than {MAX_ADJUSTMENT} in size")
    return value.quantize(quantum(currency))


def check_reason(text: str, what: str = "reason") -> str:
    text = " ".join((text or "").split())
    if not text:
        raise InvalidInput(f"Give a {what}.")
    if len(text) > MAX_REASON:
        raise InvalidInput(f"The {what} is too long (at most {MAX_REASON} characters).")
    return text


def paid_hours(seconds: int) -> Decimal:
    """Checked-in seconds as the hours a statement pays: hundredths, half-up."""
    return (Decimal(seconds) / SECONDS_PER_HOUR).quantize(HOUR_STEP, rounding=ROUND_HALF_UP)


def format_hours(seconds: int) -> str:
    """Time for people, in hours to the hundredth (`1.25`)."""
    return f"{paid_hours(seconds):f}"


def quantity_text(kind: str, quantity: Decimal) -> str:
    """A line's quantity as printed: hours to the hundredth, counts whole."""
    if kind == "hours":
        return f"{quantity.quantize(HOUR_STEP, rounding=ROUND_HALF_UP):f}"
    return f"{quantity.quantize(Decimal(1), rounding=ROUND_HALF_UP):f}"


def effective_hourly(total: Decimal, active_seconds: int, currency: str = "USD") -> Decimal | None:
    """Earnings per active hour, in the currency's minor unit (None without active
    time)."""
    if active_seconds <= 0:
        return None
    return round_money(total * SECONDS_PER_HOUR / Decimal(active_seconds), currency)


def below_floor(rate: Decimal | None, floor: Decimal | None) -> bool:
    return rate is not None and floor is not None and rate < floor


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class TaskGroup:
    """Accepted answers of one project at one per-task rate."""

    project_id: int
    project: str
    rate: Decimal
    count: int


@dataclass(frozen=True)
class RejectedGroup:
    """Rejected answers of one project, rate and reason: shown, never paid."""

    project_id: int
    project: str
    rate: Decimal
    reason: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class HoursGroup:
    """Checked-in seconds at one hourly rate (the rate snapshot at check-in)."""

    rate: Decimal | None
    seconds: int


@dataclass(frozen=True)
class AdjustmentEntry:
    id: int
    amount: Decimal
    reason: str


@dataclass(frozen=True)
class LineDraft:
    key: str
    kind: str  # tasks | rejected | hours | adjustment
    project_id: int | None
    description: str
    quantity: Decimal
    unit_amount: Decimal
    amount: Decimal


@dataclass(frozen=True)
class StatementDraft:
    person_id: int
    currency: str
    lines: tuple[LineDraft, ...]
    tasks: int
    seconds_worked: int
    active_seconds: int

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))


@dataclass
class StatementInputs:
    """Everything one person earned in one currency in one week, still unpriced."""

    person_id: int
    currency: str
    tasks: list[TaskGroup] = field(default_factory=list)
    rejected: list[RejectedGroup] = field(default_factory=list)
    hours: list[HoursGroup] = field(default_factory=list)
    adjustments: list[AdjustmentEntry] = field(default_factory=list)
    task_seconds: int = 0


MAX_ITEMS_LISTED = 10


def _items_text(items: Sequence[str]) -> str:
    shown = ", ".join(items[:MAX_ITEMS_LISTED])
    more = len(items) - MAX_ITEMS_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _digest(text: str) -> str:
    """A short stable digest (Python's `hash` of a str differs between processes)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _rate_key(rate: Decimal | None) -> str:
    return "none" if rate is None else f"{rate.normalize():f}"


def build_statement(inputs: StatementInputs) -> StatementDraft:
    """Price one person's week: one line per project and rate, per rejected reason,
    per hourly rate and per adjustment, each rounded half-up to the cent."""
    lines: list[LineDraft] = []
    cur = inputs.currency
    for t in sorted(inputs.tasks, key=lambda g: (g.project, g.project_id, g.rate)):
        lines.append(
            LineDraft(
                key=f"tasks:{t.project_id}:{_rate_key(t.rate)}",
                kind="tasks",
                project_id=t.project_id,
                description=f"{t.project}: {t.count} task{'s' if t.count != 1 else ''} "
                f"× {format_rate(t.rate, cur)}",
                quantity=Decimal(t.count),
                unit_amount=t.rate,
                amount=round_money(t.rate * t.count, cur),
            )
        )
    for r in sorted(inputs.rejected, key=lambda g: (g.project, g.project_id, g.rate, g.reason)):
        n = len(r.items)
        lines.append(
            LineDraft(
                key=f"rejected:{r.project_id}:{_rate_key(r.rate)}:{_digest(r.reason)}",
                kind="rejected",
                project_id=r.project_id,
                description=f"{r.project}: {n} rejected answer{'s' if n != 1 else ''}, not paid "
                f"(items {_items_text(r.items)}) — reason: {r.reason}",
                quantity=Decimal(n),
                unit_amount=r.rate,
                amount=Decimal("0.00"),
            )
        )
    for h in sorted(inputs.hours, key=lambda g: (g.rate is None, g.rate or Decimal(0))):
        rate = h.rate if h.rate is not None else Decimal("0")
        hours = paid_hours(h.seconds)
        label = f"{hours:f} h checked in" + (
            f" × {format_rate(rate, cur)}/h" if h.rate is not None else " (no hourly rate)"
        )
        lines.append(
            LineDraft(
                key=f"hours:{_rate_key(h.rate)}",
                kind="hours",
                project_id=None,
                description=label,
                quantity=hours,
                unit_amount=rate,
                amount=round_money(hours * rate, cur),
            )
        )
    for a in sorted(inputs.adjustments, key=lambda g: g.id):
        lines.append(
            LineDraft(
                key=f"adj:{a.id}",
                kind="adjustment",
                project_id=None,
                description=f"Adjustment: {a.reason}",
                quantity=Decimal(1),
                unit_amount=round_money(a.amount, cur),
                amount=round_money(a.amount, cur),
            )
        )
    seconds_worked = sum(h.seconds for h in inputs.hours)
    return StatementDraft(
        person_id=inputs.person_id,
        currency=inputs.currency,
        lines=tuple(lines),
        tasks=sum(t.count for t in inputs.tasks),
        seconds_worked=seconds_worked,
        active_seconds=max(seconds_worked, inputs.task_seconds),
    )


def clipped_seconds(
    started: datetime, ended: datetime | None, start: datetime, end: datetime
) -> int:
    """Seconds of a check-in inside [start, end). A check-in still open counts
    nothing: its end is not known yet (it closes by itself after a while without
    activity, see `hdops.services.checkins`), and guessing "until now" is how a
    forgotten check-in once became a week of paid time."""
    if ended is None:
        return 0
    stop = min(ended, end)
    begin = max(started, start)
    return max(0, int((stop - begin).total_seconds()))


def totals_by_currency(drafts: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """Sum amounts per currency, never across currencies."""
    totals: dict[str, Decimal] = {}
    for currency, amount in drafts:
        totals[currency] = totals.get(currency, Decimal("0.00")) + amount
    return dict(sorted(totals.items()))


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class LineView:
    id: int
    position: int
    kind: str
    description: str
    quantity: Decimal
    unit_amount: Decimal
    amount: Decimal
    open_dispute: int | None = None
    project: str = ""


@dataclass(frozen=True)
class StatementView:
    """One person's statement in one currency, as shown to them and to ops."""

    id: int
    person_id: int
    name: str
    display_name: str
    week: IsoWeek
    currency: str
    status: str  # draft | approved
    total: Decimal
    tasks: int
    seconds_worked: int
    active_seconds: int
    lines: tuple[LineView, ...]
    floor: Decimal | None = None

    @property
    def effective_hourly(self) -> Decimal | None:
        return effective_hourly(self.total, self.active_seconds, self.currency)

    @property
    def hours(self) -> Decimal:
        """Checked-in hours paid: the sum of the hours lines, as printed on them."""
        total = sum((line.quantity for line in self.lines if line.kind == "hours"), Decimal(0))
        return total.quantize(HOUR_STEP)

    @property
    def below_floor(self) -> bool:
        return below_floor(self.effective_hourly, self.floor)


@dataclass(frozen=True)
class DisputeView:
    id: int
    line_id: int
    person_id: int
    person: str
    week: str
    reason: str
    status: str  # open | accepted | declined
    line: str
    amount: Decimal
    currency: str
    resolution: str | None = None
    resolved_by: str | None = None


@dataclass(frozen=True)
class WeekView:
    """A week's payouts: every statement (or one person's), open disputes, lock state."""

    week: IsoWeek
    tz: str
    status: str  # none (nothing drafted) | draft | approved
    ended: bool
    statements: tuple[StatementView, ...]
    disputes: tuple[DisputeView, ...] = ()
    approved_at: datetime | None = None
    approved_by: str | None = None
    floor: Decimal | None = None

    @property
    def totals(self) -> dict[str, Decimal]:
        return totals_by_currency((s.currency, s.total) for s in self.statements)

    @property
    def below_floor(self) -> list[StatementView]:
        return [s for s in self.statements if s.below_floor]

    @property
    def open_disputes(self) -> list[DisputeView]:
        return [d for d in self.disputes if d.status == "open"]
