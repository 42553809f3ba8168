"""Which platform a message goes to, fixed when it is written: a person's chosen
or last used platform for direct messages, the parent's platform for replies
and edits."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from hdops.store.orm import Identity, MessageRef, OutboxMessage, Person
from hdops.store.prepared import Prepared, Tx, as_tx

# When a person has several identities and has not used any yet: the first of these.
PLATFORM_PREFERENCE = ("slack", "discord", "console")

PERSON_PLATFORMS = Prepared(
    select(Person.preferred_platform, Person.last_platform, Identity.platform)
    .join(Identity, Identity.person_id == Person.id)
    .where(Person.id == bindparam("pid"))
)
REF_PLATFORM = Prepared(
    select(MessageRef.platform)
    .where(MessageRef.key == bindparam("key"))
    .order_by(MessageRef.id.desc())
    .limit(1)
)
UNSENT_REF_PLATFORM = Prepared(
    select(OutboxMessage.platform)
    .where(OutboxMessage.ref_key == bindparam("key"))
    .order_by(OutboxMessage.id.desc())
    .limit(1)
)


def address_person(db: Session | Tx, person_id: int) -> str | None:
    """The platform a direct message to this person goes to: the one they chose
    with `/hdops prefer`, else the one they used last, if they still have an
    identity there; else their first identity in `PLATFORM_PREFERENCE`. None if
    they have no identity at all."""
    rows = as_tx(db).rows(PERSON_PLATFORMS, {"pid": person_id})
    platforms = {platform for _, _, platform in rows}
    for chosen in (rows[0][0], rows[0][1]) if rows else ():
        if chosen in platforms:
            return str(chosen)
    return next((p for p in PLATFORM_PREFERENCE if p in platforms), None)


def address_ref(db: Session | Tx, key: str) -> str | None:
    """The platform of the message recorded (or still to be sent) under `key`:
    replies and edits go where their message is. None if nothing is known yet."""
    tx = as_tx(db)
    found = tx.scalar(REF_PLATFORM, {"key": key})
    if found is None:
        found = tx.scalar(UNSENT_REF_PLATFORM, {"key": key})
    return None if found is None else str(found)
