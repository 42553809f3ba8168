"""Routing: which platform call (`Send`) delivers an intent — under the message
an edit or a reply goes to, to a person's DM identity, or to a channel — on the
platforms this process serves, in order of preference.

This module changes when a kind of target is added or the way one is reached
changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from hdops.config import Settings
from hdops.intents import Intent
from hdops.ports import ChatPort, Op, Send, SentRef
from hdops.store import outbox


class Unroutable(Exception):
    """No running platform can deliver this intent (yet)."""


def ops_channels(settings: Settings) -> dict[str, str]:
    out = {"console": "ops"}
    if settings.slack_ops_channel:
        out["slack"] = settings.slack_ops_channel
    if settings.discord_ops_channel:
        out["discord"] = settings.discord_ops_channel
    return out


def served_platforms(ports: Mapping[str, ChatPort]) -> list[str]:
    """The platforms served, in order of preference."""
    return [p for p in outbox.PLATFORM_PREFERENCE if p in ports]


class Router:
    """Resolves intents to platform calls for one claimed batch, reading the refs
    and identities it needs in two queries."""

    def __init__(
        self,
        session: Session,
        platforms: Sequence[str],
        ops_channels: Mapping[str, str],
        produced: Mapping[str, tuple[str, SentRef] | str],
        dm_channels: Mapping[tuple[str, str], str],
    ) -> None:
        self.dm_channels = dm_channels
        self.session = session
        self.platforms = platforms
        self.ops_channels = ops_channels
        self.produced = produced
        self.refs: dict[tuple[str, str], tuple[str, str]] = {}
        self.identities: dict[int, dict[str, outbox.DmIdentity]] = {}
        self.batch_refs: set[str] = set()

    def load(self, intents: Sequence[Intent]) -> None:
        keys = [i.target.edit or i.target.thread_of for i in intents]
        self.refs = outbox.refs_for(self.session, [k for k in keys if k])
        people = [i.target.person for i in intents if i.target.person is not None]
        for identity in outbox.dm_identities(self.session, people):
            self.identities.setdefault(identity.person_id, {})[identity.platform] = identity

    def plan(self, intent: Intent, platform: str | None) -> tuple[Send | None, str | None]:
        """(send, None), or (None, key) when the target message is being sent by an
        earlier job of this process (its ref key). A row addressed to a platform
        goes there or nowhere."""
        target = intent.target
        plan = self._plan(intent, [platform] if platform is not None else self.platforms)
        if intent.ref:
            self.batch_refs.add(intent.ref)
        if plan is not None:
            return plan, None
        key = target.edit or target.thread_of
        assert key is not None
        return None, key

    def _plan(self, intent: Intent, platforms: Sequence[str]) -> Send | None:
        target = intent.target
        key = target.edit or target.thread_of
        if key is not None:
            op: Op = "edit" if target.edit is not None else "thread"
            for platform in platforms:
                found = self.produced.get(key)
                if isinstance(found, tuple) and found[0] == platform:
                    return Send(platform, op, found[1].channel, found[1].message_id)
                if found == "sending" or key in self.batch_refs:
                    return None  # an earlier job sends it now: follow it
                ref = self.refs.get((key, platform))
                if ref is not None:
                    return Send(platform, op, ref[0], ref[1])
            raise Unroutable(f"no delivered message {key} yet")
        if target.person is not None:
            identities = self.identities.get(target.person, {})
            for platform in platforms:
                identity = identities.get(platform)
                if identity is not None:
                    channel = identity.dm_channel or self.dm_channels.get(
                        (platform, identity.external_id), ""
                    )
                    return Send(platform, "dm", channel, identity.external_id)
            raise Unroutable(f"person {target.person} has no identity on a running platform")
        channels = self.ops_channels if target.ops else target.channels
        for platform in platforms:
            posted_to = channels.get(platform)
            if posted_to:
                return Send(platform, "post", posted_to, "")
        raise Unroutable("no channel on a running platform")
