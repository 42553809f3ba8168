"""Shift and availability rules that need no database: parsing what people type,
local wall-clock times to UTC and back, overlaps, availability and coverage.

Times are typed in a timezone (the caller's, or `--tz`) and stored in UTC. A
weekly series is built by repeating the *local* date and time, each converted on
its own, so a 09:00 shift stays at 09:00 local across a daylight-saving change
(its UTC time moves instead).

DST edge cases follow `zoneinfo` with `fold=0`: a wall time that does not exist
(the hour skipped in spring) is read with the offset before the change, which
lands one hour later in local time (02:30 → 03:30 in Europe/London); a wall time
that happens twice (the hour repeated in autumn) means its first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hdops.domain.inputs import check_year
from hdops.domain.weeks import IsoWeek
from hdops.errors import InvalidInput

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {
    **{d: i for i, d in enumerate(WEEKDAYS)},
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
MAX_SHIFT = timedelta(hours=16)
MAX_WEEKLY = 52
MINUTES_PER_DAY = 24 * 60

_TIME_RE = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")


def zone(name: str) -> ZoneInfo:
    """An IANA zone, or one clear error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown timezone {name!r} (use a name like Europe/London)") from None


@dataclass(frozen=True)
class TimeRange:
    """`HH:MM-HH:MM` as minutes after local midnight. An end at or before the
    start means the next day (a night shift, 22:00-02:00)."""

    start_minute: int
    end_minute: int

    @property
    def overnight(self) -> bool:
        return self.end_minute <= self.start_minute

    @property
    def minutes(self) -> int:
        length = self.end_minute - self.start_minute
        return length if length > 0 else length + MINUTES_PER_DAY

    def text(self) -> str:
        return f"{hhmm(self.start_minute)}-{hhmm(self.end_minute)}"


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _minute(text: str, *, allow_24: bool) -> int:
    found = _TIME_RE.match(text.strip())
    if not found:
        raise InvalidInput(f"{text!r} is not a time like 09:00")
    hours, minutes = int(found.group(1)), int(found.group(2))
    if allow_24 and hours == 24 and minutes == 0:
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        raise InvalidInput(f"{text!r} is not a time of day (00:00 to 23:59)")
    return hours * 60 + minutes


def parse_time_range(text: str) -> TimeRange:
    """`09:00-13:00` (also `9:00-13:00`, `22:00-02:00` overnight, `18:00-24:00`)."""
    start_text, sep, end_text = text.replace("–", "-").partition("-")
    if not sep:
        raise InvalidInput(f"{text!r} is not a time range like 09:00-13:00")
    start = _minute(start_text, allow_24=False)
    end = _minute(end_text, allow_24=True)
    if end == start:
        raise InvalidInput(f"{text!r} starts and ends at the same time")
    rng = TimeRange(start, end % MINUTES_PER_DAY)  # 24:00 is the next day's 00:00
    if timedelta(minutes=rng.minutes) > MAX_SHIFT:
        raise InvalidInput(f"{text!r} is longer than {MAX_SHIFT.seconds // 3600} hours")
    return rng


def parse_date(text: str, today: date) -> date:
    """`YYYY-MM-DD`, `today`, `tomorrow`, or a weekday name: the next such day,
    today included (`mon` on a Monday is today)."""
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    if word in DAY_NAMES:
        return today + timedelta(days=(DAY_NAMES[word] - today.weekday()) % 7)
    try:
        day = date.fromisoformat(word) if word.isascii() else None
    except ValueError:
        day = None
    if day is None:
        raise InvalidInput(f"{text!r} is not a date: use YYYY-MM-DD, today, tomorrow or mon…sun")
    check_year(day.year, text)
    return day


def parse_days(text: str) -> list[int]:
    """`mon-fri`, `sat,sun`, `mon`, `mon-wed,fri`, `fri-mon` (wraps) → weekday numbers."""
    days: list[int] = []
    for chunk in text.lower().replace(" ", "").split(","):
        if not chunk:
            continue
        first, sep, last = chunk.partition("-")
        if first not in DAY_NAMES or (sep and last not in DAY_NAMES):
            raise InvalidInput(f"{text!r} is not a list of days like mon-fri or sat,sun")
        start = DAY_NAMES[first]
        end = DAY_NAMES[last] if sep else start
        day = start
        while True:
            if day not in days:
                days.append(day)
            if day == end:
                break
            day = (day + 1) % 7
    if not days:
        raise InvalidInput("name at least one day, like mon-fri or sat,sun")
    return sorted(days)


def days_text(days: Iterable[int]) -> str:
    return ",".join(WEEKDAYS[d] for d in sorted(days))


# --------------------------------------------------------------------------- time


def local_to_utc(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time (see the module notes on DST)."""
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    return local.astimezone(UTC)


def time_after(start: datetime, text: str, tz: ZoneInfo) -> datetime:
    """The first moment after `start` whose wall-clock time in `tz` is `text`
    (`HH:MM`): a check-in from 22:10 corrected to "01:30" ended the next night.
    Always within a day of `start`."""
    minute = _minute(text, allow_24=False)
    day = start.astimezone(tz).date()
    for offset in (0, 1, 2):  # 2: a wall-clock time skipped by a DST change
        found = local_to_utc(day + timedelta(days=offset), minute, tz)
        if found > start:
            return found
    raise InvalidInput(f"{text!r} is not a time after {start.astimezone(tz):%H:%M}")


def occurrence(day: date, rng: TimeRange, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A shift on `day` in `tz` as (start, end) in UTC."""
    start = local_to_utc(day, rng.start_minute, tz)
    end_day = day + timedelta(days=1) if rng.overnight else day
    end = local_to_utc(end_day, rng.end_minute, tz)
    return start, end


def weekly(day: date, rng: TimeRange, tz: ZoneInfo, count: int) -> list[tuple[datetime, datetime]]:
    """`count` shifts, one a week, each at the same local time."""
    if not 1 <= count <= MAX_WEEKLY:
        raise InvalidInput(f"--weekly must be between 1 and {MAX_WEEKLY}")
    return [occurrence(day + timedelta(weeks=k), rng, tz) for k in range(count)]


def overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    """Half-open intervals: a shift ending at 13:00 does not clash with one at 13:00."""
    return a[0] < b[1] and b[0] < a[1]


# --------------------------------------------------------------------------- availability


@dataclass(frozen=True)
class Window:
    """One declared availability window: a weekday and minutes in a timezone."""

    weekday: int
    start_minute: int
    end_minute: int  # <= start: runs past midnight into the next day
    tz: str


def _covered(windows: Sequence[Window], instant: datetime) -> bool:
    for w in windows:
        local = instant.astimezone(ZoneInfo(w.tz))
        minute = local.hour * 60 + local.minute
        day = local.weekday()
        if w.end_minute > w.start_minute:
            if day == w.weekday and w.start_minute <= minute < w.end_minute:
                return True
        elif (day == w.weekday and minute >= w.start_minute) or (
            day == (w.weekday + 1) % 7 and minute < w.end_minute
        ):
            return True
    return False


def within_availability(
    windows: Sequence[Window], start: datetime, end: datetime, step_minutes: int = 5
) -> bool:
    """True if every moment of [start, end) lies in some window (checked every few
    minutes, which is finer than anyone types availability)."""
    t = start
    while t < end:
        if not _covered(windows, t):
            return False
        t += timedelta(minutes=step_minutes)
    return True


# --------------------------------------------------------------------------- coverage


def minutes_per_day(
    shifts: Iterable[tuple[datetime, datetime]], monday: date, tz: ZoneInfo
) -> list[int]:
    """Scheduled minutes on each of the 7 local days from `monday`; a shift across
    local midnight counts on both days."""
    totals = [0] * 7
    for start, end in shifts:
        for i in range(7):
            day_start = local_to_utc(monday + timedelta(days=i), 0, tz)
            day_end = local_to_utc(monday + timedelta(days=i + 1), 0, tz)
            lo, hi = max(start, day_start), min(end, day_end)
            if hi > lo:
                totals[i] += int((hi - lo).total_seconds() // 60)
    return totals


@dataclass(frozen=True)
class CoverageDay:
    day: date
    minutes: int  # scheduled contractor-minutes
    shifts: int


@dataclass(frozen=True)
class CoverageReport:
    """Scheduled contractor-hours per local day of one week against a daily target."""

    monday: date
    tz: str
    target_minutes: int
    days: tuple[CoverageDay, ...]

    @property
    def week(self) -> str:
        return str(IsoWeek.of(self.monday))

    @property
    def total_minutes(self) -> int:
        return sum(d.minutes for d in self.days)

    def gaps(self) -> list[tuple[CoverageDay, int]]:
        """Days under target, with the minutes missing."""
        return [
            (d, self.target_minutes - d.minutes)
            for d in self.days
            if d.minutes < self.target_minutes
        ]
