"""`/hdops me`: a contractor's own work, quality and earnings (SPEC §6b) — their
answers this week and in all, per project; their gold record and standing; skips
and questions; this week's earnings so far. Nobody else's figures or names."""

from __future__ import annotations

from hdops.chat import Reply
from hdops.commands import Invocation, command
from hdops.render import me as render
from hdops.services.me import own_figures


@command(
    "me",
    roles=("contractor",),
    usage="me",
    summary="your own answers, gold accuracy, skips, questions and this week's earnings",
)
def me(inv: Invocation) -> Reply:
    return Reply(
        message=render.own_figures(own_figures(inv.session, inv.person, inv.now, inv.settings))
    )
