"""Choosing and offering tasks (SPEC §5).

`assign_next_task` picks the next item for one contractor: active projects by
priority whose skills the contractor has and whose qualification they pass (or
are still being screened for, in which case only gold items are offered), gold
mixed in at exactly `gold_share` of their stream, the `max_share` cap, then one
indexed query for an open item they have not seen, claimed with a conditional
decrement (see `hdops.store.dispatch`).

When nothing can be offered, what kept each project from offering a task is
collected on the way (`hdops.domain.no_task`): `/hdops next` replies with it and a
push tells it once per change (`tell_why`), so nobody is cut off without a word.
An item held for a contractor whose question was resolved (`ready`) is offered to
them again before any new item.

Offering the next task is part of every answer, so this runs on the hot path:
it works on ids and cached project snapshots (`ProjectInfo`) through the
transaction's `Tx`, never loading ORM objects; the `Session` functions
(`assign_next_task`, `offer_next`, `offer_or_explain`, `task_view`, …) wrap it
for callers that want ORM objects back.

One module per reason to change:

- `projects`: the cached project snapshot (`ProjectInfo`) and instruction versions;
- `choosing`: which project and item a contractor gets next, or why none;
- `views`: what a task message shows, and queueing it;
- `offers`: pushing the next task, and telling why there is none;
- `leases`: taking tasks back (expired leases, withdrawn tasks).

The names below are re-exported for the callers of `hdops.services.dispatch`.
"""

from hdops.services.dispatch.choosing import (
    MAX_SHARE_WARMUP,
    Offer,
    assign_next,
    assign_next_task,
    failed_reason,
    qualification,
)
from hdops.services.dispatch.leases import WAITING_HOLD, expire_leases, withdraw_tasks
from hdops.services.dispatch.offers import (
    offer_next,
    offer_next_id,
    offer_or_explain,
    push_tasks,
    tell_not_taking_tasks,
    tell_why,
)
from hdops.services.dispatch.projects import (
    ProjectInfo,
    VersionInfo,
    current_version_of,
    project_info,
    settings_of,
    spec_of,
    task_type_of,
    version_for,
)
from hdops.services.dispatch.views import build_view, show_task, task_view

__all__ = [
    "MAX_SHARE_WARMUP",
    "WAITING_HOLD",
    "Offer",
    "ProjectInfo",
    "VersionInfo",
    "assign_next",
    "assign_next_task",
    "build_view",
    "current_version_of",
    "expire_leases",
    "failed_reason",
    "offer_next",
    "offer_next_id",
    "offer_or_explain",
    "project_info",
    "push_tasks",
    "qualification",
    "settings_of",
    "show_task",
    "spec_of",
    "task_type_of",
    "task_view",
    "tell_not_taking_tasks",
    "tell_why",
    "version_for",
    "withdraw_tasks",
]
