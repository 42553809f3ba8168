"""The gold qualification rule: where a contractor stands in a project, from their
gold record alone.

One rule for everyone who needs it: the dispatcher (what to offer: only gold
while screening or while under the bar), the answer path (telling the
contractor and ops, and flagging answers for review, when someone falls under
the bar) and the reports (the status column of a project's figures) all call
`gold_standing`, so what a report says about a contractor is what dispatch does
with them.

The bar is the project's `qualification.min_gold_accuracy`, held two ways:

* over the whole gold record (`failed`, not `recent`): the contractor failed
  qualification — at the end of screening, or later as their record fell;
* over their last `window(qual)` gold answers (`failed` and `recent`): a lapse
  the whole record hides (ROLLING_GOLD = 20 gold answers, or the screening
  length if that is longer). 20 is about two hundred tasks at a 10 % gold
  share — recent enough to catch a lapse within a day or two of work, long
  enough that one unlucky answer does not: at a 0.8 bar a contractor who is
  right 90 % of the time drops under it in about 4 % of windows (binomial), so
  review, not punishment, follows (`hdops review`).

Under the bar a contractor gets only gold items from the project (no regular
task), as while screening, so the record that put them there can also bring
them back: once both figures are at the bar again, regular work resumes by
itself. The rolling figure is only looked at once the record is longer than
the window (before that, the whole record *is* the window).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hdops.domain.projects import Qualification

ROLLING_GOLD = 20


@dataclass(frozen=True)
class Standing:
    """A contractor's qualification in a project: 'ok', 'screening' (only gold until
    enough gold is answered) or 'failed' (under the bar: only gold until back at
    it), with the gold record that decided it — the whole record, or (`recent`)
    the last `window` gold answers."""

    state: str
    answered: int = 0
    correct: int = 0
    recent: bool = False


def needs_gold_record(qual: Qualification | None) -> bool:
    """Whether the rule looks at gold at all (if not, everyone is 'ok' unread)."""
    return qual is not None and (qual.min_gold_answered > 0 or qual.min_gold_accuracy > 0)


def window(qual: Qualification | None) -> int:
    """How many of the latest gold answers the rolling figure looks at."""
    return max(ROLLING_GOLD, qual.min_gold_answered if qual is not None else 0)


def gold_standing(
    qual: Qualification | None, answered: int, correct: int, recent: Sequence[bool] = ()
) -> Standing:
    """Where `answered` gold items with `correct` right put a contractor under `qual`;
    `recent` holds the outcomes of their latest gold answers, newest first (needed
    only when `answered` exceeds `window(qual)`; extra ones are ignored)."""
    if qual is None or not needs_gold_record(qual):
        return Standing("ok", answered, correct)
    if answered < qual.min_gold_answered:
        return Standing("screening", answered, correct)
    if answered == 0:  # no screening asked for, and no record yet to hold against them
        return Standing("ok", answered, correct)
    if correct / answered < qual.min_gold_accuracy:
        return Standing("failed", answered, correct)
    size = window(qual)
    if answered > size and len(recent) >= size:
        right = sum(1 for ok in recent[:size] if ok)
        if right / size < qual.min_gold_accuracy:
            return Standing("failed", size, right, recent=True)
    return Standing("ok", answered, correct)
