"""Bounds on what people type, checked where the input enters (CLI arguments,
chat commands, buttons, settings), so nothing out of range reaches the database
or the calendar and fails there with an error nobody can act on.

* ids: ASCII digits, 1 to 2**63 - 1. Every id column is a 64-bit integer on
  PostgreSQL and SQLite; a larger number cannot name anything, and binding it
  raises an OverflowError deep in the driver.
* years: 2000 to 2100. Python's `date` ends in 9999, so a week such as
  9999-W52 parses but its Sunday (or the next Monday) overflows; and nobody
  schedules a shift or books pay in year 1 or 5000. A typo is told at once.
* digits are ASCII only: `int()` and `Decimal()` also read Arabic-Indic or
  full-width digits, so "١٢.٥٠" would be stored as 12.50 without anyone having
  typed what the log and the statement show.
"""

from __future__ import annotations

import re

from hdops.errors import InvalidInput

MAX_ID = 2**63 - 1
MIN_YEAR = 2000
MAX_YEAR = 2100

_ID_RE = re.compile(r"#?([0-9]{1,19})", re.ASCII)


def quoted(text: str, limit: int = 40) -> str:
    """`text` as quoted in a refusal: its repr, cut to `limit` characters with "…",
    so a 5000-character name typed back at someone is not repeated in full."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def parse_id(text: str | int, what: str = "id") -> int:
    """`12` or `#12` as a database id, or one clear `InvalidInput`."""
    if isinstance(text, int) and not isinstance(text, bool):
        return check_id(text, what)
    found = _ID_RE.fullmatch(str(text).strip())
    if found is None:
        raise InvalidInput(f"{what} must be a whole number such as 12, not {str(text)[:40]!r}")
    return check_id(int(found.group(1)), what)


def check_id(value: int, what: str = "id") -> int:
    if not 1 <= value <= MAX_ID:
        shown = str(value) if len(str(value)) <= 40 else str(value)[:37] + "..."
        raise InvalidInput(f"{what} must be between 1 and {MAX_ID}, not {shown}")
    return value


def check_year(year: int, text: str) -> int:
    """Refuse a date or week outside MIN_YEAR..MAX_YEAR, naming what was typed."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(f"{text[:40]!r} is outside the years {MIN_YEAR} to {MAX_YEAR}")
    return year
