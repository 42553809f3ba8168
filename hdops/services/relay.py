"""Passing a reply from one relay thread to the other: one outbox intent per piece.

Clarifications (researchers' channel thread ↔ the contractor's task thread) and
payout disputes (ops thread ↔ the contractor's thread) relay the same way: the
reply is checked and split by `hdops.domain.relay`, and every piece becomes its
own outbox intent, so delivery is exactly-once per piece and pieces go out in
order (the delivery loop sends rows in id order).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hdops import intents
from hdops.domain.relay import split_text
from hdops.render.relay import relayed


def relay_to_thread(
    session: Session,
    thread_ref: str,
    author_name: str,
    role: str,
    text: str,
    now: datetime,
    *,
    edited: bool = False,
) -> int:
    """Queue `text` (already checked by `relay_text`) for the thread under the
    message stored as `thread_ref`. Returns the number of messages queued."""
    pieces = split_text(text)
    for number, piece in enumerate(pieces, start=1):
        message = relayed(author_name, piece, role, part=(number, len(pieces)), edited=edited)
        intents.in_thread(session, thread_ref, message, now)
    return len(pieces)
