"""The one command layer: parsing, roles, clear errors, and late answers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from hdops.store.orm import Answer, Project
from tests.flows.conftest import Harness
from tests.helpers import add_items, contractor, make_project, ops, researcher


def _said(h: Harness, user: str) -> str:
    text = h.chat.last_notice(user)
    assert text is not None
    return text


async def test_unknown_user_unknown_command_and_bad_arguments(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        make_project(s)
        contractor(s, "alice")
    h.chat.command("mallory", "/hdops next")
    assert "not registered" in _said(h, "mallory") and "console:mallory" in _said(h, "mallory")
    h.chat.command("alice", "/hdops fly")
    assert "Unknown command `fly`" in _said(h, "alice")
    h.chat.command("alice", '/hdops shift list "unclosed')
    assert "Could not read that command" in _said(h, "alice")
    h.chat.command("alice", "/hdops tz Mars/Olympus")
    assert "unknown timezone" in _said(h, "alice")
    h.chat.command("alice", "/hdops help")
    help_text = _said(h, "alice")
    assert "/hdops next" in help_text and "project pause" not in help_text  # own commands


async def test_project_pause_is_for_ops_and_researchers_only(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        p = make_project(s)
        add_items(s, p, 2)
        contractor(s, "alice")
        ops(s, "otto")
        researcher(s, "rita")
    h.chat.command("alice", "/hdops project pause helpful-pairs")
    assert "Only researcher or ops" in _said(h, "alice")
    with h.store.unit_of_work() as s:
        assert s.scalars(select(Project.status)).one() == "active"
    h.chat.command("otto", "/hdops project pause helpful-pairs")
    assert "paused" in _said(h, "otto")
    h.chat.command("alice", "/hdops next")
    await h.flush()
    assert h.chat.open_tasks("alice") == []  # paused projects hand out nothing
    h.chat.command("rita", "/hdops project resume helpful-pairs")
    assert "1 waiting contractor(s) got a task" in _said(h, "rita")  # alice asked earlier
    await h.flush()
    assert len(h.chat.open_tasks("alice")) == 1
    h.chat.command("otto", "/hdops project status helpful-pairs")
    status = _said(h, "otto")
    assert "Items done: 0/2" in status and "Open questions: 0" in status
    h.chat.command("otto", "/hdops project status")
    assert "Usage: /hdops project status NAME" in _said(h, "otto")
    h.chat.command("otto", "/hdops project status nope")
    assert "no project named 'nope'" in _said(h, "otto")


async def test_pause_stops_pushes_and_resume_restarts(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        p = make_project(s, overlap=1)
        add_items(s, p, 3)
        contractor(s, "alice")
    h.chat.command("alice", "next")
    await h.flush()
    h.chat.command("alice", "pause")
    task = h.chat.open_tasks("alice")[0]
    h.chat.press("alice", task.id, "Tie")
    await h.flush()
    assert h.chat.open_tasks("alice") == []  # answered, and paused: no next task
    h.chat.command("alice", "resume")
    await h.flush()
    assert len(h.chat.open_tasks("alice")) == 1


async def test_late_answer_kept_when_needed_refused_politely_when_full(harness: Harness) -> None:
    """A text answer typed in a form while the lease ran out is not lost."""
    h = harness
    text_task = {"type": "text", "fields": ["ticket"], "min_chars": 5}
    with h.store.unit_of_work() as s:
        p = make_project(s, overlap=1, lease_minutes=5, task=text_task)
        add_items(s, p, 1)
        add_items(s, p, 1, prefix="other")
        for name in ("alice", "bob"):
            contractor(s, name)
    h.chat.command("alice", "next")
    await h.flush()
    first = h.chat.open_tasks("alice")[0]
    h.chat.press("alice", first.id, "Write answer")  # she starts typing…
    h.chat.command("alice", "pause")
    h.clock.advance(timedelta(minutes=6))
    h.core.sweep()
    await h.flush()
    assert "went back to the pool" in h.chat.messages[first.id].text
    # Nobody took the item meanwhile: her late answer still counts.
    h.chat.submit("alice", {"text": "Here is a careful reply."})
    with h.store.unit_of_work() as s:
        assert s.scalar(select(func.count(Answer.id))) == 1

    h.chat.command("alice", "next")
    await h.flush()
    second = h.chat.open_tasks("alice")[-1]
    h.chat.press("alice", second.id, "Write answer")
    h.chat.command("alice", "pause")
    h.clock.advance(timedelta(minutes=6))
    h.core.sweep()
    h.chat.command("bob", "next")  # bob takes the expired item and answers it
    await h.flush()
    bobs = h.chat.open_tasks("bob")[0]
    h.chat.press("bob", bobs.id, "Write answer")
    h.chat.submit("bob", {"text": "Bob's quick answer."})
    reply = h.chat.submit("alice", {"text": "Alice's slower answer."})
    assert reply.message is not None and "already got all the answers" in reply.message.plain()
    with h.store.unit_of_work() as s:
        assert s.scalar(select(func.count(Answer.id))) == 2
