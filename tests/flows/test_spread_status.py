"""`/hdops project status` shows researchers and ops the spread of the project's
work (answers per contractor, Gini, top-20 % share), all time and this week."""

from __future__ import annotations

from datetime import timedelta

from tests.flows.conftest import Harness
from tests.helpers import T0, add_items, contractor, make_project, ops
from tests.payout_data import answer
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


async def test_project_status_in_chat_shows_agreement_gold_and_when_it_finishes(
    harness: Harness,
) -> None:
    """Two contractors on three items and a gold one: (a,a) (b,b) (a,-) and gold
    (a,b). Nominal alpha over the three items answered twice (n = 6, three a, three
    b, one pair disagreeing): 1 - (2/6) / (2·3·3/(6·5)) = 0.44. Gold: bob's b is wrong.
    Seven answers in the last 24 h, one still needed: about 3.4 h to go."""
    h = harness
    now = T0 + timedelta(hours=12)
    h.clock.set(now)
    with h.store.unit_of_work() as s:
        project = make_project(s, overlap=2)
        items = add_items(s, project, 3) + add_items(s, project, 1, prefix="gold")
        items[3].is_gold, items[3].gold = True, {"choice": "a"}
        alice, bob = contractor(s, "alice"), contractor(s, "bob")
        for n, item in enumerate(items[:3] + items[3:]):
            for who in (alice, bob):
                if n == 2 and who is bob:
                    continue  # item 2 still needs bob's answer
                given = answer(s, who, item, now - timedelta(hours=2))
                wrong = {(1, alice), (1, bob), (3, bob)}
                given.answer = {"choice": "b" if (n, who) in wrong else "a"}
                item.answer_count += 1
        ops(s, "otto")
    h.chat.command("otto", "/hdops project status helpful-pairs")
    status = h.chat.last_notice("otto")
    assert status is not None
    assert "Agreement (alpha): 0.44" in status
    assert "Gold accuracy: 50% (1 of 2)" in status
    assert "Finishes: about 3 h at 0.3 answers/h (1 to go)" in status
    assert "Flagged for review: 0 (hdops review helpful-pairs)" in status
