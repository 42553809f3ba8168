"""Outbox rows and message refs: the store side of "nothing lost, nothing twice".

Intents are inserted in the same transaction as the state change that caused
them. Delivery claims due rows (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so
several workers can drain one outbox), pushes the claim's deadline forward so a
crashed sender's rows become due again, and records what happened to a whole
batch of rows in one transaction (`record_outcomes`): `sent` with the platform
refs it produced, deferred to a later attempt, or `failed` for good. A `sent`
row is never selected again; a `failed` row waits for `hdops outbox retry`.

The package's modules, one concern each: `enqueue` (writing intents),
`addressing` (which platform a message goes to), `claiming` (taking due rows),
`outcomes` (recording what happened), `refs` (where sent messages live), `ops`
(what `hdops outbox` shows and retries) and `events` (redelivered platform
events). The names the rest of hdops uses are re-exported here.
"""

from __future__ import annotations

from hdops.store.outbox.addressing import PLATFORM_PREFERENCE, address_person, address_ref
from hdops.store.outbox.claiming import (
    CLAIM_SECONDS,
    Claimed,
    claim_due,
    earlier_pending,
    extend_claims,
    stale,
)
from hdops.store.outbox.enqueue import enqueue
from hdops.store.outbox.events import first_delivery
from hdops.store.outbox.ops import Row, counts, list_rows, pending_count, retry
from hdops.store.outbox.outcomes import Deferred, Failed, Outcome, Sent, record_outcomes
from hdops.store.outbox.refs import (
    DmIdentity,
    dm_identities,
    keys_for_message,
    ref_message_ids,
    ref_of_message,
    refs_for,
)

__all__ = [
    "CLAIM_SECONDS",
    "PLATFORM_PREFERENCE",
    "Claimed",
    "Deferred",
    "DmIdentity",
    "Failed",
    "Outcome",
    "Row",
    "Sent",
    "address_person",
    "address_ref",
    "claim_due",
    "counts",
    "dm_identities",
    "earlier_pending",
    "enqueue",
    "extend_claims",
    "first_delivery",
    "keys_for_message",
    "list_rows",
    "pending_count",
    "record_outcomes",
    "ref_message_ids",
    "ref_of_message",
    "refs_for",
    "retry",
    "stale",
]
