"""The dispatcher's SQL, built once at import (the hot path rebuilds nothing).

Statements the answer path runs are `Prepared` (see `hdops.store.prepared`):
compiled once per dialect and run on the driver cursor of the session's
transaction. Functions take a `Session` or, on the hot path, the `Tx` the
caller already holds; both run in the same transaction.

Concurrency: a slot on an item is claimed with a conditional decrement
(`open_slots = open_slots - 1 WHERE open_slots > 0`), which PostgreSQL
re-evaluates after waiting on a row lock, so two dispatchers can never over-fill
an item; `(item_id, person_id)` is unique, so nobody gets the same item twice;
and the contractor's profile row is locked first (`FOR UPDATE` on PostgreSQL,
`BEGIN IMMEDIATE` on SQLite), so one contractor never holds two open tasks.

Liveness: on PostgreSQL many dispatchers run at once and all see the same first
open items. Each takes its candidate with `FOR UPDATE SKIP LOCKED`, so they
spread over different items instead of queueing on one and then finding all
their few candidates filled (which left contractors without a task while work
remained). Gold items are only read (they have no slots), so they are not locked.

One module per concern: `candidates` (which items may be offered), `slots` (an
item's slots and answer count), `assignments` (a contractor's tasks), `expiry`
(tasks past their lease), `limits` (gold mix, share, and what the even-share
rule reads: who works on a project, their week, its open work), `projects` (the
cached project snapshot), `task_view` (what a task message shows), `no_task` (why
there is no task) and `push_order` (who is pushed a task first). The functions are
re-exported here: callers use `from hdops.store import dispatch as q` and
`q.candidate_items(...)`, and a test patches `candidate_items` on this package.
"""

from __future__ import annotations

from hdops.store.dispatch.assignments import (
    held_tasks,
    insert_assignment,
    last_resolved_at,
    lock_contractor,
    offer_again,
    open_or_ready,
    open_task,
    show_version,
)
from hdops.store.dispatch.candidates import candidate_items
from hdops.store.dispatch.expiry import expired_assignments, expired_waiting
from hdops.store.dispatch.limits import (
    fewer_open_slots_than,
    gold_record,
    my_mix,
    my_week_answers,
    recent_gold,
    share_counts,
    team,
    week_answers,
)
from hdops.store.dispatch.no_task import (
    no_task_told,
    paused_projects,
    set_no_task_told,
    unfinished_not_mine,
)
from hdops.store.dispatch.projects import (
    active_projects,
    project_updated_at,
    project_with_version,
    version,
)
from hdops.store.dispatch.push_order import available_by_fewest_answers
from hdops.store.dispatch.slots import bump_answer_count, claim_item, claim_slot, release_slot
from hdops.store.dispatch.task_view import done_since, item_view, project_progress

__all__ = [
    "active_projects",
    "available_by_fewest_answers",
    "bump_answer_count",
    "candidate_items",
    "claim_item",
    "claim_slot",
    "done_since",
    "expired_assignments",
    "expired_waiting",
    "fewer_open_slots_than",
    "gold_record",
    "held_tasks",
    "insert_assignment",
    "item_view",
    "last_resolved_at",
    "lock_contractor",
    "my_mix",
    "my_week_answers",
    "no_task_told",
    "offer_again",
    "open_or_ready",
    "open_task",
    "paused_projects",
    "project_progress",
    "project_updated_at",
    "project_with_version",
    "recent_gold",
    "release_slot",
    "set_no_task_told",
    "share_counts",
    "show_version",
    "team",
    "unfinished_not_mine",
    "version",
    "week_answers",
]
