"""Forged button presses and form submissions from bob, a contractor, through the
core's interaction path. alice holds the only task (assignment 1) and a check-in
hdops closed by itself (time entry 1).

Each is refused with one private message, changes nothing, and adds exactly one
`access.denied` row to the audit log naming bob and what he sent.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hdops.core import MAX_FIELD_CHARS
from hdops.store.orm import Assignment, AuditEntry, Person, TimeEntry
from tests.corpus.conftest import HostileCase
from tests.flows.conftest import Harness
from tests.helpers import add_items, contractor, make_project, table_rows

BIG = "x" * (MAX_FIELD_CHARS + 1)

# (what it attacks, control id, a form's fields or None for a button, select values,
#  what the reply must name)
CASES: list[tuple[str, str, dict[str, str] | None, list[str], str]] = [
    ("a button for another contractor's task", "hd:ans:1:a", None, [], "someone else"),
    ("a skip button for another's task", "hd:skip:1", None, [], "someone else"),
    ("a question form on another's task", "hd:f_ask:1", {"question": "mine?"}, [], "someone else"),
    (
        "an answer form for a task never given",
        "hd:f_text:999",
        {"choice": "a"},
        [],
        "no longer exists",
    ),
    (
        "a rationale form for a task never given",
        "hd:f_rat:424242:a",
        {"rationale": "x"},
        [],
        "no longer exists",
    ),
    ("a full-text button for a field that is not there", "hd:full:1:7", None, [], "someone else"),
    ("resolve a question never asked", "hd:resolve:77", None, [], "question"),
    ("instructions never written", "hd:instr:999", None, [], "no longer exist"),
    ("approve payouts as a contractor", "hd:approve:202610", None, [], "Only ops"),
    ("accept a swap meant for someone else", "hd:swap_ok:1:1", None, [], "someone else"),
    ("correct another's check-in", "hd:timefix:1", None, [], "not yours"),
    (
        "a check-in correction form for another's",
        "hd:f_timefix:1",
        {"until": "09:30", "reason": "x"},
        [],
        "not yours",
    ),
    ("dispute a statement line never issued", "hd:dispute:31337", None, [], "no longer exists"),
    ("resolve a dispute with a made-up verb", "hd:dispute:1:pay.1", None, [], "not recognised"),
    ("an unknown verb", "hd:zap:1", None, [], "not recognised"),
    ("an unknown form", "hd:f_zap:1", {"x": "y"}, [], "not recognised"),
    ("an id beyond 64 bits", "hd:ans:99999999999999999999:a", None, [], "not recognised"),
    ("not an action id at all", "'; DROP TABLE assignments;--", None, [], "not recognised"),
    ("an action id of 10 000 characters", "hd:ans:1:" + "a" * 10_000, None, [], "not recognised"),
    ("a form value beyond any form's limit", "hd:f_ask:1", {"question": BIG}, [], "carries more"),
    (
        "a form with 1000 fields",
        "hd:f_ask:1",
        {f"f{i}": "x" for i in range(1000)},
        [],
        "carries more",
    ),
    ("a select of 1000 values", "hd:ans:1", None, ["a"] * 1000, "carries more"),
    ("a select value of 10 000 characters", "hd:ans:1", None, ["a" * 10_000], "carries more"),
]


@pytest.mark.parametrize(
    ("attack", "control", "fields", "values", "names"), CASES, ids=[c[0] for c in CASES]
)
async def test_a_forged_payload_is_refused_and_audited_once(
    harness: Harness,
    hostile: HostileCase,
    attack: str,
    control: str,
    fields: dict[str, str] | None,
    values: list[str],
    names: str,
) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        add_items(s, make_project(s), 2)
        alice = contractor(s, "alice")
        contractor(s, "bob")
    h.chat.command("alice", "next")
    h.chat.command("alice", "checkin")
    await h.flush()
    with h.store.unit_of_work() as s:
        assert s.scalars(select(Assignment.id)).all() == [1]
        entry = s.scalars(select(TimeEntry)).one()
        entry.ended_at, entry.auto_closed = entry.started_at + timedelta(minutes=5), True
        assert entry.id == 1 and entry.person_id == alice.id
        bob = s.scalars(select(Person.id).where(Person.name == "bob")).one()
    before = table_rows(h.store)

    if fields is None:
        reply = h.core.action("console:bob", control, values, event_id=f"forged-{attack}")
    else:
        reply = h.core.form("console:bob", control, fields, event_id=f"forged-{attack}")

    assert reply.message is not None and reply.form is None, (attack, reply)
    said = reply.message.plain()
    assert names in said and "did not work" not in said, (attack, said)
    after = table_rows(h.store)
    audit = AuditEntry.__tablename__
    assert {k: v for k, v in after.items() if k != audit} == {
        k: v for k, v in before.items() if k != audit
    }, attack
    assert after[audit][: len(before[audit])] == before[audit]
    with h.store.unit_of_work() as s:
        new = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()[len(before[audit]) :]
        assert [(e.action, e.actor_id) for e in new] == [("access.denied", bob)], attack
        assert new[0].details["reason"] == said
    hostile.refused()
