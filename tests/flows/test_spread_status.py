"""`/hdops project status` shows researchers and ops the spread of the project's
work (answers per contractor, Gini, top-20 % share), all time and this week."""

from __future__ import annotations

from datetime import timedelta

from tests.flows.conftest import Harness
from tests.helpers import T0, ops
from tests.spread_data import build_spread


async def test_project_status_in_chat_shows_the_spread(harness: Harness) -> None:
    h = harness
    build_spread(h.store)
    with h.store.unit_of_work() as s:
        ops(s, "otto")
    h.clock.set(T0 + timedelta(days=7, hours=1))  # in W11
    h.chat.command("otto", "/hdops project status helpful-pairs")
    status = h.chat.last_notice("otto")
    assert status is not None
    assert "Spread (all time): 5 contractors · Gini 0.44" in status
    assert "Spread 2026-W11: 2 contractors · Gini 0.25 · top 20% (1 of 2) gave 75%" in status
    assert "Alice" in status and "Frank" in status
    h.chat.command("alice", "/hdops project status helpful-pairs")
    denied = h.chat.last_notice("alice")
    assert denied is not None and "Only researcher or ops" in denied and "Frank" not in denied
