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

import statistics
from collections.abc import Iterable, Sequence

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
# Typical times are medians of the latest accepted answers (flagged and rejected
# ones do not set what is typical), over a rolling window so that they follow a
# project whose items get longer or shorter.
OWN_WINDOW = 50
PROJECT_WINDOW = 200
# Medians count from this many answers on. Below MIN_PROJECT_ANSWERS the project
# has no typical time yet and nothing is flagged as fast. Below MIN_OWN_ANSWERS a
# contractor has no typical time of their own, and the project's stands for it:
# a newcomer who races from their first task is flagged, not let through until
# their own (fast) median has formed.
MIN_OWN_ANSWERS = 5
MIN_PROJECT_ANSWERS = 20


def typical(seconds: Sequence[int], minimum: int) -> float | None:
    """The median of `seconds`, or None if there are fewer than `minimum`."""
    if len(seconds) < minimum or not seconds:
        return None
    return float(statistics.median(seconds))


def too_fast(seconds: int, own: Sequence[int], project: Sequence[int]) -> bool:
    """Whether an answer that took `seconds` is far faster than both the contractor's
    typical time (`own`: their latest accepted answers' seconds) and the project's
    (`project`: everyone's). A typical time of 0 s makes nothing "faster"."""
    project_typical = typical(project, MIN_PROJECT_ANSWERS)
    if project_typical is None:
        return False
    own_typical = typical(own, MIN_OWN_ANSWERS)
    if own_typical is None:
        own_typical = project_typical
    return all(t > 0 and seconds * SPEED_FACTOR <= t for t in (own_typical, project_typical))


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
