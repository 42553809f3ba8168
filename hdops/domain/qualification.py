"""The gold qualification rule: where a contractor stands in a project, from their
gold record alone.

One rule for everyone who needs it: the dispatcher (what to offer: only gold
while screening, nothing once failed) and the reports (the status column of a
project's figures) both call `gold_standing`, so what a report says about a
contractor is what dispatch does with them.
"""

from __future__ import annotations

from dataclasses import dataclass

from hdops.domain.projects import Qualification


@dataclass(frozen=True)
class Standing:
    """A contractor's qualification in a project: 'ok', 'screening' (only gold until
    enough gold is answered) or 'failed' (under the bar), with their gold record."""

    state: str
    answered: int = 0
    correct: int = 0


def needs_gold_record(qual: Qualification | None) -> bool:
    """Whether the rule looks at gold at all (if not, everyone is 'ok' unread)."""
    return qual is not None and (qual.min_gold_answered > 0 or qual.min_gold_accuracy > 0)


def gold_standing(qual: Qualification | None, answered: int, correct: int) -> Standing:
    """Where `answered` gold items with `correct` right put a contractor under `qual`."""
    if qual is None or not needs_gold_record(qual):
        return Standing("ok", answered, correct)
    if answered < qual.min_gold_answered:
        return Standing("screening", answered, correct)
    if answered == 0:  # no screening asked for, and no record yet to hold against them
        return Standing("ok", answered, correct)
    accuracy = correct / answered
    return Standing("ok" if accuracy >= qual.min_gold_accuracy else "failed", answered, correct)
