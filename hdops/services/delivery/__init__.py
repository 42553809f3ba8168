"""The outbox delivery loop: sends intents through the chat ports, paced, in
order per lane, concurrently across lanes, and never drops one.

How a row travels:

1. **Claim and plan** (one transaction, on the deliverer's own thread, never on
   the event loop): due rows are claimed in id order (their deadline pushed
   forward, so a crashed sender's rows come due again), each is resolved to a
   platform call (`Send`) with the refs and DM channels it needs, read in bulk.
   A row whose lane has an older row still waiting (deferred, or held by another
   worker) waits behind it. A row that cannot be routed yet waits too.
2. **Send**: rows go to per-lane queues. A lane (a person's DMs, one thread,
   one channel set, the edits of one message: `Target.lane`) sends its rows one
   by one, in id order; different lanes send concurrently, at most
   `concurrency` calls at a time. Before each call the `Pacer` says how long the
   platform's published limits (per channel, per method: `ChatPort.rates`) ask
   it to wait; short waits are slept, long ones hand the row back to the store.
3. **Record** (one transaction per batch of outcomes): sent rows with their
   platform refs, deferred rows with their next attempt, failed rows — and the
   ops notices about them.

What counts as failure: a 429 (throttling) is normal — its Retry-After holds the
pacing keys and the row waits, without counting an attempt. 5xx, timeouts and
connection errors are transient: retried with exponential back-off until the
row is older than the maximum age (`HDOPS_OUTBOX_MAX_AGE_HOURS`, default 24),
then it fails. Only errors the platform calls permanent (archived channel, user
gone, blocks refused) fail at once. Every failure is reported to ops once, by
another route than the one that failed (a failed ops-channel message goes to
the ops people's DMs), and the row stays visible (`hdops outbox list --failed`,
`hdops outbox retry`).

One module per reason to change:

- `deliverer`: the `Deliverer` — the loop, the lanes, the hand-over from the core,
  the heartbeat, and batching outcomes into the store (the asyncio side);
- `transactions`: what it does in the store, on its own thread (claim, plan
  handed rows, renew claims, expire stale rows, record outcomes);
- `planning`: which claimed rows go now and which wait behind their lane;
- `routing`: which platform call delivers an intent;
- `sending`: one call — following a parent message, the restart check, pacing,
  and judging the platform's answer;
- `retries`: back-off and the maximum age;
- `failures`: the ops notice for a row that failed for good;
- `holdings`: what this process holds between a claim and a record;
- `jobs`: the types they share.

The names below are re-exported for callers outside the package (the runtime,
metrics, tests).
"""

from hdops.services.delivery.deliverer import Deliverer
from hdops.services.delivery.jobs import Delivered

__all__ = ["Delivered", "Deliverer"]
