"""People, identities and roles on the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hdops.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hdops.services.people import (
    PersonChanges,
    add_person,
    find_person,
    get_person,
    grant_role,
    list_people,
    person_by_identity,
    require_role,
    revoke_role,
    roles_of,
    set_timezone,
    update_person,
    view,
)
from hdops.store.db import Store
from hdops.store.orm import AuditEntry, Person, RateChange


def add_alice(store: Store) -> None:
    with store.unit_of_work() as s:
        add_person(
            s,
            "alice",
            identities=["slack:U0ALICE", "discord:123456789012345678"],
            tz="Europe/London",
            roles=["contractor"],
            hourly_rate="18.50",
            skills="medical, Coding ,medical",
            display_name="Alice A.",
        )


def test_add_a_contractor_with_two_identities(store: Store) -> None:
    add_alice(store)
    with store.unit_of_work() as s:
        v = view(get_person(s, "alice"))
    assert v.name == "alice" and v.display_name == "Alice A."
    assert v.identities == ("slack:U0ALICE", "discord:123456789012345678")
    assert v.roles == ("contractor",)
    assert v.tz == "Europe/London"
    assert v.skills == ("coding", "medical")
    assert v.status == "active"


def test_hourly_rate_is_an_exact_decimal(store: Store) -> None:
    add_alice(store)
    with store.unit_of_work() as s:
        person = get_person(s, "alice")
        rate = view(person).hourly_rate
        history = s.scalars(select(RateChange).where(RateChange.person_id == person.id)).all()
    assert isinstance(rate, Decimal) and rate == Decimal("18.50")
    assert [h.hourly_rate for h in history] == [Decimal("18.50")]


def test_find_by_name_or_any_identity(store: Store) -> None:
    add_alice(store)
    with store.unit_of_work() as s:
        for ref in ("alice", "slack:U0ALICE", "discord:123456789012345678", "@alice"):
            found = find_person(s, ref)
            assert found is not None and found.name == "alice", ref
        by_id = person_by_identity(s, "discord", "123456789012345678")
        assert by_id is not None and by_id.name == "alice"
        assert find_person(s, "slack:U0NOBODY") is None
        assert find_person(s, "slack:not valid") is None
        assert find_person(s, "bob") is None
        with pytest.raises(NotFound, match="no person 'bob'"):
            get_person(s, "bob")


def test_identities_are_unique_across_persons(store: Store) -> None:
    add_alice(store)
    clash = "slack:U0ALICE already belongs to alice"
    with pytest.raises(Conflict, match=clash), store.unit_of_work() as s:
        add_person(s, "mallory", identities=["console:mallory", "slack:U0ALICE"])
    with store.unit_of_work() as s:  # nothing of mallory was written
        assert find_person(s, "mallory") is None
        assert find_person(s, "console:mallory") is None


def test_names_are_unique(store: Store) -> None:
    add_alice(store)
    with pytest.raises(Conflict, match="already exists"), store.unit_of_work() as s:
        add_person(s, "alice", identities=["console:alice2"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"roles": ["boss"]}, "unknown role 'boss'"),
        ({"tz": "Mars/Olympus_Mons"}, "unknown timezone"),
        ({"identities": ["U0ALICE"]}, "not an identity"),
        ({"identities": ["slack:u-lower"]}, "not a valid slack id"),
        ({"hourly_rate": "lots"}, "hourly rate must be a decimal amount"),
        ({"hourly_rate": "-3"}, "zero or more"),
        ({"hourly_rate": "10", "currency": "dollars"}, "currency"),
    ],
)
def test_invalid_input_is_refused(store: Store, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message), store.unit_of_work() as s:
        add_person(s, "zed", **kwargs)  # type: ignore[arg-type]
    with store.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 0


def test_bad_person_names_are_refused(store: Store) -> None:
    for bad in ("", "two words", "x" * 41, "-dash"):
        with pytest.raises(InvalidInput), store.unit_of_work() as s:
            add_person(s, bad)


def test_grant_and_revoke_roles(store: Store) -> None:
    add_alice(store)
    with store.unit_of_work() as s:
        assert grant_role(s, "slack:U0ALICE", "researcher") is True
        assert grant_role(s, "alice", "researcher") is False  # already held
    with store.unit_of_work() as s:
        alice = get_person(s, "alice")
        assert roles_of(s, alice.id) == {"contractor", "researcher"}
        require_role(s, alice, "researcher", "ops")
        with pytest.raises(PermissionDenied, match="Only ops or admin can grant roles"):
            require_role(s, alice, "ops", "admin", action="grant roles")
    with store.unit_of_work() as s:
        assert revoke_role(s, "alice", "researcher") is True
        assert revoke_role(s, "alice", "researcher") is False
    with store.unit_of_work() as s:
        assert roles_of(s, get_person(s, "alice").id) == {"contractor"}


def test_unknown_role_or_person_in_grant(store: Store) -> None:
    add_alice(store)
    with pytest.raises(InvalidInput, match="unknown role"), store.unit_of_work() as s:
        grant_role(s, "alice", "superuser")
    with pytest.raises(NotFound), store.unit_of_work() as s:
        grant_role(s, "slack:U0NOBODY", "ops")


def test_granting_contractor_creates_a_profile(store: Store) -> None:
    with store.unit_of_work() as s:
        add_person(s, "rita", identities=["console:rita"], roles=["researcher"])
    with store.unit_of_work() as s:
        assert view(get_person(s, "rita")).status is None
        grant_role(s, "console:rita", "contractor")
    with store.unit_of_work() as s:
        v = view(get_person(s, "rita"))
    assert v.roles == ("contractor", "researcher")
    assert v.status == "active" and v.hourly_rate is None


def test_list_people_filters_by_role(store: Store) -> None:
    add_alice(store)
    with store.unit_of_work() as s:
        add_person(s, "rita", identities=["console:rita"], roles=["researcher", "admin"])
        add_person(s, "otto", identities=["slack:U0OTTO"], roles=["ops"])
    with store.unit_of_work() as s:
        assert [p.name for p in list_people(s)] == ["alice", "otto", "rita"]
        assert [p.name for p in list_people(s, "researcher")] == ["rita"]
        assert [p.name for p in list_people(s, "contractor")] == ["alice"]
        assert list_people(s, "admin")[0].name == "rita"
        with pytest.raises(InvalidInput, match="unknown role"):
            list_people(s, "owner")


def test_set_timezone(store: Store) -> None:
    add_alice(store)
    with store.unit_of_work() as s:
        set_timezone(s, get_person(s, "alice"), "America/New_York")
    with store.unit_of_work() as s:
        assert get_person(s, "alice").tz == "America/New_York"
        with pytest.raises(InvalidInput, match="unknown timezone"):
            set_timezone(s, get_person(s, "alice"), "Europe/Atlantis")


# --------------------------------------------------------------------------- update


def audit_actions(store: Store, subject: str) -> list[tuple[str, dict[str, object]]]:
    with store.unit_of_work() as s:
        return [
            (e.action, dict(e.details))
            for e in s.scalars(
                select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.id)
            )
        ]


def test_update_changes_everything_asked_with_one_audit_entry_each(store: Store) -> None:
    add_alice(store)
    with store.unit_of_work() as s:
        add_person(s, "bob", identities=["console:bob"])
    changes = PersonChanges(
        add_identities=["console:alice"],
        remove_identities=["discord:123456789012345678"],
        skills="legal",
        hourly_rate="21.25",
        currency="eur",
        tz="Asia/Tokyo",
        display_name="Alice Moreau",
    )
    with store.unit_of_work() as s:
        _, done = update_person(s, "slack:U0ALICE", changes, details={"via": "cli"})
    assert [c.kind for c in done] == [
        "identity_remove", "identity_add", "display_name", "tz", "skills", "rate",
    ]  # fmt: skip
    with store.unit_of_work() as s:
        v = view(get_person(s, "console:alice"))
        history = s.scalars(
            select(RateChange).where(RateChange.person_id == get_person(s, "alice").id)
        ).all()
        profile = get_person(s, "alice").profile
        assert profile is not None and profile.currency == "EUR"
    assert v.identities == ("slack:U0ALICE", "console:alice")
    assert (v.display_name, v.tz, v.skills, v.hourly_rate) == (
        "Alice Moreau", "Asia/Tokyo", ("legal",), Decimal("21.25"),
    )  # fmt: skip
    assert [(h.hourly_rate, h.currency) for h in history] == [
        (Decimal("18.50"), "USD"),
        (Decimal("21.25"), "EUR"),
    ]
    logged = audit_actions(store, "alice")[1:]  # after person.add
    assert [a for a, _ in logged] == [f"person.{c.kind}" for c in done]
    assert all(d["via"] == "cli" for _, d in logged)
    assert logged[-1][1]["before"] == ["18.5000", "USD"] and logged[-1][1]["after"][1] == "EUR"
    # The same again changes nothing and logs nothing.
    with store.unit_of_work() as s:
        assert update_person(s, "alice", PersonChanges(skills="legal", tz="Asia/Tokyo"))[1] == []
    assert len(audit_actions(store, "alice")) == 1 + len(done)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        (
            PersonChanges(add_identities=["console:bob"]),
            Conflict,
            "console:bob already belongs to bob",
        ),
        (
            PersonChanges(remove_identities=["slack:U0NOPE"]),
            NotFound,
            "alice has no identity slack:U0NOPE",
        ),
        (
            PersonChanges(remove_identities=["slack:U0ALICE", "discord:123456789012345678"]),
            InvalidInput,
            "is alice's last identity",
        ),
        (PersonChanges(add_identities=["slack:lower"]), InvalidInput, "not a valid slack id"),
        (PersonChanges(hourly_rate="-1"), InvalidInput, "zero or more"),
        (PersonChanges(hourly_rate="ten"), InvalidInput, "decimal amount"),
        (PersonChanges(currency="dollars"), InvalidInput, "3-letter ISO code"),
        (PersonChanges(tz="Mars/Base"), InvalidInput, "unknown timezone"),
        (PersonChanges(display_name="  "), InvalidInput, "display name"),
        (PersonChanges(), InvalidInput, "nothing to change"),
    ],
)
def test_bad_update_is_refused_and_changes_nothing(
    store: Store, changes: PersonChanges, error: type[Exception], message: str
) -> None:
    add_alice(store)
    with store.unit_of_work() as s:
        add_person(s, "bob", identities=["console:bob"])
    with store.unit_of_work() as s:
        before = view(get_person(s, "alice"))
    if not changes.empty:  # a valid change in the same call must not slip through either
        changes = dataclasses.replace(changes, skills=changes.skills or "surgery")
    with pytest.raises(error, match=message), store.unit_of_work() as s:
        update_person(s, "alice", changes)
    with store.unit_of_work() as s:
        assert view(get_person(s, "alice")) == before
    assert [a for a, _ in audit_actions(store, "alice")] == ["person.add"]


def test_removing_the_last_identity_is_fine_when_another_is_added(store: Store) -> None:
    with store.unit_of_work() as s:
        add_person(s, "sam", identities=["slack:U0SAM"])
    with store.unit_of_work() as s:
        update_person(
            s,
            "sam",
            PersonChanges(add_identities=["slack:U0SAM2"], remove_identities=["slack:U0SAM"]),
        )
    with store.unit_of_work() as s:
        assert view(get_person(s, "sam")).identities == ("slack:U0SAM2",)
        assert find_person(s, "slack:U0SAM") is None
