"""Issue 10, point 11: a task sent again says how long it is really still held."""

from __future__ import annotations

from datetime import timedelta

from tests.flows.conftest import Harness
from tests.helpers import T0, add_items, contractor, make_project


async def test_resent_task_shows_the_time_really_left(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        add_items(s, make_project(s, lease_minutes=20), 3)
        contractor(s, "alice")
    h.chat.command("alice", "/hdops next")
    await h.flush()
    first = h.chat.open_tasks("alice")[-1]
    assert "held for you 20 min" in first.text

    h.clock.set(T0 + timedelta(minutes=17, seconds=50))  # 2 min 10 s left
    h.chat.command("alice", "/hdops next")
    assert "sent it to you again" in (h.chat.last_notice("alice") or "")
    await h.flush()
    again = h.chat.open_tasks("alice")[-1]
    assert again.id != first.id and "item it-0" in again.text
    assert "held for you 2 more min" in again.text and "20 min" not in again.text

    h.clock.set(T0 + timedelta(minutes=19, seconds=30))
    h.chat.command("alice", "/hdops next")
    await h.flush()
    assert "held for you less than a minute more" in h.chat.open_tasks("alice")[-1].text
