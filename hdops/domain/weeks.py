"""ISO weeks, the one period hdops plans and pays by: parsing what people type
(`this`, `next`, `last`, `2026-W10`) and the week's bounds in a timezone.

Shifts (a week's schedule, its iCal feed) and payouts (the week a statement
covers) both use these, so `2026-W10` means the same Monday to Sunday
everywhere, and the same words are accepted everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hdops.domain.inputs import check_year
from hdops.errors import InvalidInput

_WEEK_RE = re.compile(r"^([0-9]{4})-W([0-9]{2})$")
WEEK_WORDS = ("this", "next", "last", "prev")
USAGE = "use this, next, last or YYYY-Www (e.g. 2026-W10)"


@dataclass(frozen=True, order=True)
class IsoWeek:
    """An ISO week such as 2026-W10 (Monday to Sunday)."""

    year: int
    week: int

    def __post_init__(self) -> None:
        try:
            date.fromisocalendar(self.year, self.week, 1)
        except ValueError:
            raise InvalidInput(f"{self.year}-W{self.week:02d} is not an ISO week") from None

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def code(self) -> int:
        """The week as one integer (202610), for action ids that carry ids only."""
        return self.year * 100 + self.week

    @classmethod
    def from_code(cls, code: int) -> IsoWeek:
        check_year(code // 100, str(code))
        return cls(code // 100, code % 100)

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        found = _WEEK_RE.match(text.strip().upper())
        if found is None:
            raise InvalidInput(f"{text!r} is not a week: {USAGE}")
        check_year(int(found.group(1)), text)
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        """The week `day` falls in."""
        year, week, _ = day.isocalendar()
        return cls(year, week)

    @classmethod
    def containing(cls, when: datetime, tz: str | ZoneInfo) -> IsoWeek:
        """The week that `when` falls in, on the wall clock of `tz`."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        return cls.of(when.astimezone(zone).date())

    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def start(self, tz: str | ZoneInfo) -> datetime:
        """Monday 00:00 of this week in `tz`, as aware UTC."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        monday = self.monday()
        local = datetime(monday.year, monday.month, monday.day, tzinfo=zone)
        return local.astimezone(UTC)

    def end(self, tz: str | ZoneInfo) -> datetime:
        """The start of the next week: weeks tile time with no gap and no overlap."""
        return self.shift(1).start(tz)

    def shift(self, weeks: int) -> IsoWeek:
        return IsoWeek.of(self.monday() + timedelta(weeks=weeks))

    def span(self) -> str:
        """`Mon 2 Mar – Sun 8 Mar 2026` for headings."""
        monday = self.monday()
        sunday = monday + timedelta(days=6)
        return f"Mon {monday.day} {monday:%b} – Sun {sunday.day} {sunday:%b %Y}"


def parse_week(
    text: str | None,
    now: datetime | date,
    tz: str | ZoneInfo = "UTC",
    default: str = "this",
) -> IsoWeek:
    """`this`, `next`, `last`/`prev` (relative to `now`: a day, or an instant read
    on the wall clock of `tz`) or `YYYY-Www`; `default` when nothing is typed
    (payouts look back to `last`, the week Monday's job drafts; shifts to `this`)."""
    word = (text or default).strip().lower()
    current = IsoWeek.containing(now, tz) if isinstance(now, datetime) else IsoWeek.of(now)
    if word == "this":
        return current
    if word == "next":
        return current.shift(1)
    if word in ("last", "prev"):
        return current.shift(-1)
    return IsoWeek.parse(word)


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())
