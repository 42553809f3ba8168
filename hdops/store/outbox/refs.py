"""Reading where sent messages live: a person's DM identities, the platform
message behind a ref key, and the ref keys behind a platform message (to route
inbound thread replies back to their domain object)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from hdops.store.orm import Identity, MessageRef
from hdops.store.prepared import Prepared, Tx, as_tx


class DmIdentity(NamedTuple):
    person_id: int
    platform: str
    external_id: str
    dm_channel: str | None


IDENTITIES_OF = Prepared(
    select(Identity.person_id, Identity.platform, Identity.external_id, Identity.dm_channel).where(
        Identity.person_id == bindparam("pid")
    )
)
REFS_OF = Prepared(
    select(MessageRef.platform, MessageRef.channel, MessageRef.message_id).where(
        MessageRef.key == bindparam("key")
    )
)


def dm_identities(db: Session | Tx, person_ids: Iterable[int]) -> list[DmIdentity]:
    tx = as_tx(db)
    return [
        DmIdentity(*row)
        for pid in sorted(set(person_ids))
        for row in tx.rows(IDENTITIES_OF, {"pid": pid})
    ]


def refs_for(db: Session | Tx, keys: Iterable[str]) -> dict[tuple[str, str], tuple[str, str]]:
    """(key, platform) → (channel, message_id) for the given ref keys."""
    tx = as_tx(db)
    return {
        (key, platform): (channel, message_id)
        for key in sorted(set(keys))
        for platform, channel, message_id in tx.rows(REFS_OF, {"key": key})
    }


def keys_for_message(session: Session, platform: str, channel: str, message_id: str) -> list[str]:
    return list(
        session.scalars(
            select(MessageRef.key).where(
                MessageRef.platform == platform,
                MessageRef.channel == channel,
                MessageRef.message_id == message_id,
            )
        )
    )


def ref_of_message(session: Session, platform: str, message_id: str) -> tuple[str, str] | None:
    """(ref key, channel) of a message the core sent and recorded, by its id alone:
    the local chat's ids are unique across sessions, so a session can reply under a
    message an earlier one printed."""
    row = session.execute(
        select(MessageRef.key, MessageRef.channel)
        .where(MessageRef.platform == platform, MessageRef.message_id == message_id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def ref_message_ids(session: Session, platform: str) -> list[str]:
    """Every message id recorded for `platform`. The local chat numbers its messages
    past these, so a new session never reuses an id an old ref still points to."""
    return list(
        session.scalars(select(MessageRef.message_id).where(MessageRef.platform == platform))
    )
