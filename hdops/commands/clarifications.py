"""`/hdops clarifications [PROJECT] [--open]` for researchers and ops (SPEC §6)."""

from __future__ import annotations

from hdops.chat import Reply
from hdops.commands import Invocation, command
from hdops.errors import InvalidInput
from hdops.render import clarifications as render
from hdops.services import clarifications as service
from hdops.services import scope
from hdops.services.projects import get_project

USAGE = "clarifications [PROJECT] [--open]"


@command(
    "clarifications",
    roles=("researcher", "ops"),
    usage=USAGE,
    summary="questions with their ids and time to first answer",
)
def clarifications(inv: Invocation) -> Reply:
    only_open = "--open" in inv.args
    rest = [a for a in inv.args if a != "--open"]
    if len(rest) > 1 or any(a.startswith("--") for a in rest):
        raise InvalidInput(f"Usage: /hdops {USAGE}")
    project = get_project(inv.session, rest[0]) if rest else None
    if project is not None:
        scope.require_lead(inv.session, inv.person, project, "see its questions")
    rows = service.summaries(
        inv.session, project, only_open, within=scope.visible_project_ids(inv.session, inv.person)
    )
    return Reply(
        message=render.clarification_list(
            rows, inv.now, only_open=only_open, project=project.name if project else None
        )
    )
