"""What the review queue and the quality pause say (SPEC §6b): ops told that a
contractor fell under a project's bar, a contractor told that answers were
rejected, and the queue listed in chat."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hdops.chat import Context, Heading, Message, Paragraph, Table, defang_mentions
from hdops.domain.qualification import Standing
from hdops.domain.review import reasons_text

# A chat reply lists this many flagged answers; the CLI lists them all.
CHAT_ROWS = 15
ITEMS_NAMED = 10  # in one rejection message


def fell_under_bar(
    person: str, title: str, project: str, standing: Standing, bar: float, flagged: int
) -> Message:
    """To ops, once per fall: who, how far under, what follows, what to review."""
    accuracy = standing.correct / standing.answered if standing.answered else 0.0
    which = f"last {standing.answered} check items" if standing.recent else "check items"
    what = "recent answers" if standing.recent else "answers in the project"
    text = (
        f"{defang_mentions(person)} is under the bar in {title}: accuracy on {which} "
        f"{accuracy:.0%} ({standing.correct} of {standing.answered} right; {bar:.0%} needed). "
        "They get only its check items until that is back up. "
        f"{flagged} of their {what} are flagged for review: hdops review {project}"
    )
    return Message(text=text, parts=[Paragraph(text=text)])


def answers_rejected(title: str, items: Sequence[str], reason: str) -> Message:
    """To the contractor: which answers were rejected, and why."""
    reason = defang_mentions(reason)
    if len(items) == 1:
        text = (
            f"Your answer to item {items[0]} in {title} was rejected: {reason}. "
            "It will not be paid."
        )
        return Message(text=text, parts=[Paragraph(text=text)])
    named = ", ".join(items[:ITEMS_NAMED])
    if len(items) > ITEMS_NAMED:
        named += f" and {len(items) - ITEMS_NAMED} more"
    text = (
        f"{len(items)} of your answers in {title} were rejected: {reason}. "
        f"They will not be paid. Items: {named}."
    )
    return Message(text=text, parts=[Paragraph(text=text)])


@dataclass(frozen=True)
class QueueRow:
    """One flagged answer as a reviewer sees it."""

    id: int
    item: str
    person: str
    answer: str  # described by the task type
    seconds: int
    reasons: str  # stored form


def queue(title: str, project: str, rows: Sequence[QueueRow]) -> Message:
    """The reply to `/hdops review PROJECT`: the oldest flagged answers, and how to
    decide them."""
    heading = f"Review queue — {title}"
    if not rows:
        text = f"{heading}: no flagged answers."
        parts = [Heading(text=heading), Paragraph(text="No flagged answers.")]
        return Message(text=text, parts=list(parts))
    shown = rows[:CHAT_ROWS]
    table = Table(
        columns=["id", "item", "contractor", "answer", "s", "why"],
        rows=[
            [
                str(r.id),
                r.item,
                defang_mentions(r.person),
                defang_mentions(r.answer)[:40],
                str(r.seconds),
                reasons_text(r.reasons),
            ]
            for r in shown
        ],
    )
    more = f" (the oldest {len(shown)} shown)" if len(rows) > len(shown) else ""
    summary = f"{len(rows)} flagged answer{'s' if len(rows) != 1 else ''}{more}."
    hint = (
        f"Decide with `hdops review {project} --accept ID...` or "
        f"`hdops review {project} --reject ID... --reason TEXT` (or --all)."
    )
    return Message(
        text=f"{heading}: {summary}",
        parts=[Heading(text=heading), Paragraph(text=summary), table, Context(text=hint)],
    )
