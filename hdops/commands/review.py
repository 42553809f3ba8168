"""`/hdops review PROJECT` for researchers and ops (SPEC §6b): the project's
flagged answers, oldest first, with why each was flagged. Deciding them is
`hdops review PROJECT --accept|--reject ...` on the CLI."""

from __future__ import annotations

from hdops.chat import Reply
from hdops.commands import Invocation, command
from hdops.errors import InvalidInput
from hdops.render import review as render
from hdops.services import review as service

USAGE = "review PROJECT"


@command(
    "review",
    roles=("researcher", "ops"),
    usage=USAGE,
    summary="answers flagged for review in a project, and why",
)
def review(inv: Invocation) -> Reply:
    if len(inv.args) != 1:
        raise InvalidInput(f"Usage: /hdops {USAGE}")
    project = service.open_queue(inv.session, inv.args[0], service.Reviewer(inv.person))
    rows = service.queue(inv.session, project)
    return Reply(message=render.queue(project.title, project.name, rows))
