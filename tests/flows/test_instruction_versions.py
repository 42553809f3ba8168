"""Which instructions an answer records: the latest version its contractor had been
shown when answering — on a task message or in a notice that they changed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hdops import actions
from hdops.domain.projects import parse_project_spec
from hdops.services.projects import update_project
from hdops.store.orm import Answer, Assignment, InstructionVersion, Person
from tests.flows.conftest import Harness
from tests.helpers import add_items, contractor, make_project, spec_dict

NEW_RULE = "Pick the more helpful response.\nTies are fine when both are equal."


def _update_instructions(h: Harness) -> None:
    with h.store.unit_of_work() as s:
        _, change = update_project(
            s, parse_project_spec(spec_dict(instructions=NEW_RULE)), now=h.clock.now()
        )
        assert change is not None and change.version == 2


def _recorded_versions(h: Harness) -> list[int]:
    with h.store.unit_of_work() as s:
        return list(
            s.scalars(
                select(InstructionVersion.version)
                .join(Answer, Answer.instruction_version_id == InstructionVersion.id)
                .order_by(Answer.id)
            )
        )


async def test_the_open_task_records_the_version_the_update_notice_showed(
    harness: Harness,
) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        add_items(s, make_project(s), 3)
        contractor(s, "alice")
    h.chat.command("alice", "next")
    await h.flush()
    task = h.chat.open_tasks("alice")[0]
    assert "Instructions v1" in task.text

    _update_instructions(h)
    await h.flush()
    notice = h.chat.inbox("alice")[-1].text
    assert "Instructions updated" in notice and "+ Ties are fine when both are equal." in notice
    assert "record v2 from now on, including the task you have open" in notice
    h.chat.command("alice", "next")  # the open task, sent again, says so too
    await h.flush()
    assert "Instructions v2" in h.chat.inbox("alice")[-1].text

    h.chat.press("alice", task.id, "Tie")  # answered on the message that showed v1
    await h.flush()
    following = h.chat.open_tasks("alice")[-1]
    assert "Instructions v2" in following.text
    h.chat.press("alice", following.id, "A is better")
    await h.flush()
    assert _recorded_versions(h) == [2, 2]


async def test_a_late_answer_records_the_newest_version_its_contractor_had_seen(
    harness: Harness,
) -> None:
    """alice and bob both let a v1 task run out while paused (so neither is told of
    v2). alice then gets a new task, which shows v2; bob does not. Both answer their
    old task late: alice's records v2, bob's v1 — each what they had last seen."""
    h = harness
    with h.store.unit_of_work() as s:
        add_items(s, make_project(s, overlap=2), 4)
        contractor(s, "alice")
        contractor(s, "bob")
    old: dict[str, int] = {}
    for name in ("alice", "bob"):
        h.chat.command(name, "next")
        await h.flush()
        h.chat.command(name, "pause")
        with h.store.unit_of_work() as s:
            old[name] = s.scalars(
                select(Assignment.id).join(Person).where(Person.name == name)
            ).one()
    h.clock.advance(timedelta(minutes=21))
    assert h.core.sweep()["expired"] == 2
    _update_instructions(h)
    await h.flush()
    assert not any("Instructions updated" in m.text for m in h.chat.inbox("alice"))

    h.chat.command("alice", "resume")
    await h.flush()
    assert "Instructions v2" in h.chat.open_tasks("alice")[-1].text
    for name, task_id in old.items():  # a click that raced the expiry, or a form sent late
        h.core.action(f"console:{name}", actions.encode(actions.ANSWER, task_id, "a"))
    await h.flush()
    with h.store.unit_of_work() as s:
        late = {
            person: version
            for person, version in s.execute(
                select(Answer.person_id, InstructionVersion.version)
                .join(InstructionVersion, InstructionVersion.id == Answer.instruction_version_id)
                .order_by(Answer.person_id)
            )
        }
    assert list(late.values()) == [2, 1]  # alice (person 1), bob (person 2)
