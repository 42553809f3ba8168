"""Buttons and forms carry ids, and ids can be forged: bob pressing a button with
alice's task id is refused, changes nothing, and leaves a trace in the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hdops import actions
from hdops.store.orm import Answer, Assignment, AuditEntry, Clarification, Person
from tests.flows.conftest import Harness
from tests.helpers import add_items, contractor, make_project

# (how bob forges it, the action or form id, the form's fields if a form)
FORGERIES = [
    ("answer button", actions.ANSWER, "a", None),
    ("skip button", actions.SKIP, None, None),
    ("ask button", actions.ASK, None, None),
    ("text-answer button", actions.TEXT, None, None),
    ("full-text button", actions.FULL, "0", None),
    ("skip form", actions.F_SKIP, None, {"reason": "unclear", "note": ""}),
    ("question form", actions.F_ASK, None, {"question": "Whose task is this?"}),
    ("rationale form", actions.F_RATIONALE, "a", {"rationale": "because"}),
    ("text-answer form", actions.F_TEXT, None, {"choice": "a"}),
]


@pytest.mark.parametrize(("how", "verb", "arg", "fields"), FORGERIES, ids=[f[0] for f in FORGERIES])
async def test_a_forged_click_on_someone_elses_task_is_refused_and_audited(
    harness: Harness, how: str, verb: str, arg: str | None, fields: dict[str, str] | None
) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        project = make_project(s, overlap=2)
        add_items(s, project, 3)
        contractor(s, "alice")
        contractor(s, "bob")
    h.chat.command("alice", "next")
    await h.flush()
    with h.store.unit_of_work() as s:
        alices = s.scalars(select(Assignment)).one()
        task_id, bob_id = alices.id, s.scalars(select(Person.id).where(Person.name == "bob")).one()

    forged = actions.encode(verb, task_id, arg)
    if fields is None:
        reply = h.core.action("console:bob", forged, event_id=f"forged-{verb}")
    else:
        reply = h.core.form("console:bob", forged, fields, event_id=f"forged-{verb}")
    await h.flush()

    shown = reply.message.plain() if reply.message else " ".join(reply.form_errors.values())
    assert "belongs to someone else" in shown
    assert reply.form is None  # not even the form opens for bob
    with h.store.unit_of_work() as s:
        task = s.get(Assignment, task_id)
        assert task is not None and task.status == "offered" and task.person_id != bob_id
        assert s.scalar(select(func.count(Answer.id))) == 0
        assert s.scalar(select(func.count(Clarification.id))) == 0
        assert s.scalar(select(func.count(Assignment.id))) == 1  # bob got nothing either
        trail = s.scalars(select(AuditEntry).where(AuditEntry.action == "access.denied")).all()
        assert [(e.actor_id, e.subject) for e in trail] == [(bob_id, f"assignment:{task_id}")]
        assert trail[0].details["reason"] == "That task belongs to someone else."
    assert h.chat.open_tasks("bob") == []


async def test_a_refused_command_is_audited_too(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        contractor(s, "alice")
    reply = h.chat.command("alice", "payouts approve last")
    assert reply.message is not None and "Only ops" in reply.message.plain()
    with h.store.unit_of_work() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "access.denied")).one()
        assert entry.subject == "/hdops payouts approve"
