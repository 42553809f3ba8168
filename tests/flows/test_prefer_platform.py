"""`/hdops prefer slack|discord|console|last` (issue 13 point 5): a person with
identities on several platforms chooses where their direct messages go; without
a choice they follow the platform used last."""

from __future__ import annotations

from sqlalchemy import select

from bots.runtime import bootstrap
from hdops.clock import FakeClock
from hdops.config import Settings
from hdops.core import Core
from hdops.services.people import add_person
from hdops.store.db import Store
from hdops.store.orm import AuditEntry, OutboxMessage, Person
from tests.helpers import T0, add_items, make_project


def _alice(store: Store) -> Core:
    with store.unit_of_work() as s:
        add_items(s, make_project(s), 6)
        add_person(s, "alice", identities=["slack:U0ALICE", "console:alice"], roles=["contractor"])
    return bootstrap(Settings(), store, clock=FakeClock(T0)).core


def _last_platform(store: Store) -> str | None:
    with store.read() as s:
        row = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        assert row is not None
        return row.platform


def _said(reply: object) -> str:
    message = getattr(reply, "message", None)
    assert message is not None
    return str(message.plain())


def test_a_chosen_platform_holds_wherever_the_person_acts(store: Store) -> None:
    core = _alice(store)
    said = _said(core.command("console:alice", "prefer slack", None, "console"))
    assert "go to slack" in said
    core.command("console:alice", "next", None, "console")  # acting in the terminal
    assert _last_platform(store) == "slack"  # the task still goes to Slack

    said = _said(core.command("console:alice", "prefer last", None, "console"))
    assert "used hdops last" in said
    core.command("console:alice", "pause", None, "console")
    core.command("console:alice", "next", None, "console")
    assert _last_platform(store) == "console"
    with store.read() as s:
        changes = [
            (e.details.get("before"), e.details.get("after"))
            for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "person.prefer"))
        ]
    assert changes == [(None, "slack"), ("slack", None)]


def test_a_platform_without_an_identity_is_refused_and_nothing_changes(store: Store) -> None:
    core = _alice(store)
    said = _said(core.command("console:alice", "prefer discord", None, "console"))
    assert "no discord identity" in said and "ask ops" in said
    said = _said(core.command("console:alice", "prefer carrier-pigeon", None, "console"))
    assert "Usage: /hdops prefer slack|discord|console|last" in said
    with store.read() as s:
        assert s.scalars(select(Person.preferred_platform)).one() is None
