"""The review queue's rules (SPEC §6b): why an answer is flagged, and when an
answer counts as far faster than usual. Pure; the store and services apply them.

An answer waits for review (status `flagged`) for one or more reasons:

* `failed`    — its contractor failed the project's qualification afterwards
  (their whole gold record fell under the bar): every answer of theirs in the
  project that nobody has reviewed yet is flagged;
* `under_bar` — their accuracy on their last gold answers fell under the bar
  (`hdops.domain.qualification`): the answers they gave since the first of
  those gold answers are flagged;
* `fast`      — it took at most a third of the contractor's own typical time
  *and* of the project's (`too_fast`).

Only answers to regular items are flagged: gold answers are how contractors are
measured, not the data, and flagging them would move the record that flagged them.
An answer decided in review is not flagged again (a person looked at it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FAILED = "failed"
UNDER_BAR = "under_bar"
FAST = "fast"
REASONS = (FAILED, UNDER_BAR, FAST)
REASON_WORDS = {
    FAILED: "contractor failed qualification",
    UNDER_BAR: "contractor's recent gold accuracy under the bar",
    FAST: "far faster than usual",
}

# "Far faster": at most 1/SPEED_FACTOR of the typical time. "3× faster than
# typical" is flagged, so the bound is inclusive.
SPEED_FACTOR = 3
# A typical time is the median of the seconds of the latest accepted answers
# (flagged and rejected ones do not set what is typical) — the upper median of an
# even count, `statistics.median_high` — over a rolling window, so that it follows
# a project whose items get longer or shorter.
OWN_WINDOW = 50
PROJECT_WINDOW = 200
# Medians count from this many answers on. Below MIN_PROJECT_ANSWERS the project
# has no typical time yet and nothing is flagged as fast. Below MIN_OWN_ANSWERS a
# contractor has no typical time of their own, and the project's stands for it:
# a newcomer who races from their first task is flagged, not let through until
# their own (fast) median has formed.
MIN_OWN_ANSWERS = 5
MIN_PROJECT_ANSWERS = 20


def threshold(seconds: int) -> int:
    """An answer that took `seconds` is far faster than a typical time of at least
    this many seconds. (At least 1: a typical time of 0 s makes nothing faster.)"""
    return max(seconds * SPEED_FACTOR, 1)


@dataclass(frozen=True)
class Window:
    """The latest answers a typical time is taken from, as counted for one answer:
    how many there are, and how many of them took at least `threshold(seconds)`."""

    size: int
    slow: int

    def far_faster(self, minimum: int) -> bool | None:
        """Whether the answer took at most a third of the typical time (None: fewer
        than `minimum` answers, no typical time yet). The median is at least the
        threshold exactly when at least half of the window is (the upper half
        for an even size: `median_high`) — so the store counts, it need not sort."""
        if self.size < minimum:
            return None
        return self.slow * 2 >= self.size


def too_fast(own: Window, project: Window) -> bool:
    """Whether an answer is far faster than both the contractor's typical time
    (`own`) and the project's (`project`)."""
    if not project.far_faster(MIN_PROJECT_ANSWERS):
        return False
    mine = own.far_faster(MIN_OWN_ANSWERS)
    return True if mine is None else mine


def window(latest: Sequence[int], seconds: int) -> Window:
    """The `Window` of these seconds for an answer that took `seconds`."""
    limit = threshold(seconds)
    return Window(len(latest), sum(1 for s in latest if s >= limit))


def too_fast_among(seconds: int, own: Sequence[int], project: Sequence[int]) -> bool:
    """`too_fast` on the seconds of the latest answers themselves: an answer is far
    faster when `seconds` ≤ median_high / 3 for both (the store counts in SQL
    instead; this is the rule in its plain form, for tests and readers)."""
    return too_fast(window(own, seconds), window(project, seconds))


def split_reasons(text: str | None) -> tuple[str, ...]:
    """The reasons stored on an answer, in REASONS order."""
    found = set((text or "").split(","))
    return tuple(r for r in REASONS if r in found)


def join_reasons(reasons: Iterable[str]) -> str:
    """The stored form of `reasons` (unknown ones refused)."""
    wanted = set(reasons)
    unknown = wanted - set(REASONS)
    if unknown:
        raise ValueError(f"unknown flag reasons: {sorted(unknown)}")
    return ",".join(r for r in REASONS if r in wanted)


def reasons_text(text: str | None) -> str:
    """The reasons as a person reads them."""
    return "; ".join(REASON_WORDS[r] for r in split_reasons(text)) or "-"
