"""How an adapter shows the core's private reply (`hdops.chat.Reply`).

The core decides what a person sees; each platform decides how: Slack shows a
form as a modal opened with the interaction's trigger and a message as an
ephemeral post (a DM when it cannot), Discord answers the interaction itself
(a modal or an ephemeral follow-up). The interaction runner and the listeners
need only this protocol.
"""

from __future__ import annotations

from typing import Protocol

from hdops.chat import Reply


class ReplyPresenter(Protocol):
    async def show(
        self,
        reply: Reply,
        *,
        user: str,
        channel: str | None = None,
        trigger: str | None = None,
        thread: str | None = None,
    ) -> None:
        """Show `reply` to `user` only. `channel`/`thread`: where they acted;
        `trigger`: the platform's handle for answering this interaction (Slack's
        trigger_id, Discord's interaction token), needed to open a form. Never
        raises: a reply that cannot be shown is logged."""
        ...
