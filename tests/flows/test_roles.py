"""Admins grant and revoke roles in chat (SPEC §1); everyone else is refused."""

from __future__ import annotations

from sqlalchemy import select

from hdops.services.people import add_person
from hdops.store.orm import AuditEntry, Person, RoleGrant
from tests.flows.conftest import Harness
from tests.helpers import contractor, ops


def _said(h: Harness, user: str) -> str:
    text = h.chat.last_notice(user)
    assert text is not None
    return text


def _roles(h: Harness, name: str) -> set[str]:
    with h.store.unit_of_work() as s:
        person = s.scalars(select(Person).where(Person.name == name)).one()
        return set(s.scalars(select(RoleGrant.role).where(RoleGrant.person_id == person.id)))


def _audit(h: Harness, action: str) -> list[tuple[str | None, str, dict[str, object]]]:
    with h.store.unit_of_work() as s:
        names = {i: n for i, n in s.execute(select(Person.id, Person.name))}
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return [(names.get(e.actor_id or 0), e.subject, e.details) for e in entries]


async def test_an_admin_grants_and_revokes_roles_in_chat(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        add_person(s, "ada", identities=["console:ada"], roles=["admin"])
        contractor(s, "dana")
        ops(s, "otto")

    h.chat.command("ada", "/hdops role grant @dana ops")
    assert _said(h, "ada") == "dana is now ops."
    assert _roles(h, "dana") == {"contractor", "ops"}
    h.chat.command("dana", "/hdops coverage")  # an ops command: dana may use it now
    assert "Only ops" not in _said(h, "dana")
    h.chat.command("ada", "/hdops role grant console:dana ops")  # any identity works too
    assert _said(h, "ada") == "dana already has role ops."

    h.chat.command("ada", "/hdops role revoke @dana ops")
    assert _said(h, "ada") == "dana is no longer ops."
    assert _roles(h, "dana") == {"contractor"}
    h.chat.command("ada", "/hdops role revoke @dana ops")
    assert _said(h, "ada") == "dana did not have role ops."
    assert _audit(h, "role.grant") == [("ada", "dana", {"role": "ops"})]
    assert _audit(h, "role.revoke") == [("ada", "dana", {"role": "ops"})]

    help_text = h.chat.command("ada", "/hdops help")
    assert (
        help_text.message is not None
        and "/hdops role grant @user ROLE" in help_text.message.plain()
    )


async def test_only_admins_may_change_roles_and_bad_input_changes_nothing(
    harness: Harness,
) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        add_person(s, "ada", identities=["console:ada"], roles=["admin"])
        contractor(s, "dana")
        ops(s, "otto")

    h.chat.command("dana", "/hdops role grant @dana ops")  # a contractor promoting herself
    assert _said(h, "dana") == "Only admin can use /hdops role grant."
    h.chat.command("otto", "/hdops role grant @dana admin")  # ops are not admins either
    assert _said(h, "otto") == "Only admin can use /hdops role grant."
    h.chat.command("otto", "/hdops role revoke @ada admin")
    assert _said(h, "otto") == "Only admin can use /hdops role revoke."
    assert [(who, what) for who, what, _ in _audit(h, "access.denied")] == [
        ("dana", "/hdops role grant"),
        ("otto", "/hdops role grant"),
        ("otto", "/hdops role revoke"),
    ]
    help_text = h.chat.command("otto", "/hdops help")
    assert help_text.message is not None and "role grant" not in help_text.message.plain()

    h.chat.command("ada", "/hdops role grant @dana boss")
    assert "boss" in _said(h, "ada") and "contractor" in _said(h, "ada")
    h.chat.command("ada", "/hdops role grant @nobody ops")
    assert "no person '@nobody'" in _said(h, "ada")
    h.chat.command("ada", "/hdops role grant @dana")
    assert _said(h, "ada").startswith("Usage: /hdops role grant @user ROLE")
    h.chat.command("ada", "/hdops role revoke @ada admin")  # the last admin stays one
    assert "last admin" in _said(h, "ada")
    assert _roles(h, "dana") == {"contractor"} and _roles(h, "ada") == {"admin"}
    assert _audit(h, "role.grant") == [] and _audit(h, "role.revoke") == []

    h.chat.command("ada", "/hdops role grant @otto admin")
    h.chat.command("ada", "/hdops role revoke @ada admin")  # now there is another
    assert _said(h, "ada") == "ada is no longer admin."
    assert _roles(h, "ada") == set()
