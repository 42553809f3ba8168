"""Shift swaps: the request with Accept / Decline, its answer, and the notices
to the requester and to ops."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from hdops import actions
from hdops.chat import Actions, Button, Heading, Message, Paragraph, Reply, defang_mentions
from hdops.render.shifts.formatting import ShiftView, say, shift_label


def swap_request(view: ShiftView, tz: ZoneInfo, requester: str, person_id: int) -> Message:
    text = f"{defang_mentions(requester)} asks you to take over shift {shift_label(view, tz)}."
    return Message(
        text=text,
        parts=[
            Heading(text="Shift swap"),
            Paragraph(text=text),
            Actions(
                controls=[
                    Button(
                        action_id=actions.encode(actions.SWAP_OK, view.id, str(person_id)),
                        label="Accept",
                        style="primary",
                    ),
                    Button(
                        action_id=actions.encode(actions.SWAP_NO, view.id, str(person_id)),
                        label="Decline",
                    ),
                ]
            ),
        ],
    )


def swap_asked_reply(view: ShiftView, tz: ZoneInfo, other: str) -> Reply:
    return Reply.say(
        f"Asked {defang_mentions(other)} to take over shift {shift_label(view, tz)}. "
        "You keep it until they accept."
    )


def swap_closed(view: ShiftView, tz: ZoneInfo, requester: str, accepted: bool) -> Message:
    """The swap request, edited once answered (no buttons any more)."""
    verdict = "✓ You accepted" if accepted else "✗ You declined"
    text = f"{verdict} taking over shift {shift_label(view, tz)} from {defang_mentions(requester)}."
    return Message(text=text, parts=[Heading(text="Shift swap"), Paragraph(text=text)])


def swap_declined(view: ShiftView, tz: ZoneInfo, other: str) -> Message:
    return say(
        f"{defang_mentions(other)} declined to take over your shift {shift_label(view, tz)}. "
        "It is still yours."
    )


def swap_to_ops(view: ShiftView, tz: ZoneInfo, before: str, after: str) -> Message:
    text = (
        f"Shift swap: {defang_mentions(after)} took over shift {shift_label(view, tz)} "
        f"from {defang_mentions(before)}."
    )
    return say(text)
