"""Which interaction may edit a clicked Discord message, and when (bots.discord.clicked)."""

from __future__ import annotations

import asyncio

import pytest

from bots.discord.clicked import LIFETIME, MAX_REMEMBERED, ClickedMessages

pytestmark = pytest.mark.timeout(10)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def test_the_token_is_given_once_the_click_is_answered_with_a_deferred_update() -> None:
    clicked = ClickedMessages(Clock())
    clicked.clicked("D1", "m1", "tok")
    waiting = asyncio.create_task(clicked.token("D1", "m1", wait=5))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # Discord knows no original before the answer
    clicked.answered("D1", "m1", "tok", deferred_update=True)
    assert await waiting == "tok"
    assert clicked.available("D1", "m1")


async def test_a_click_answered_otherwise_edits_through_the_channel() -> None:
    clicked = ClickedMessages(Clock())
    clicked.clicked("D1", "m1", "tok")
    waiting = asyncio.create_task(clicked.token("D1", "m1", wait=5))
    clicked.answered("D1", "m1", "tok", deferred_update=False)  # a form, a reply
    assert await waiting is None
    assert not clicked.available("D1", "m1")
    # Only the first answer counts: the adapter's closing "not deferred" after a
    # deferred update changes nothing.
    clicked.clicked("D1", "m2", "tok2")
    clicked.answered("D1", "m2", "tok2", deferred_update=True)
    clicked.answered("D1", "m2", "tok2", deferred_update=False)
    assert await clicked.token("D1", "m2", wait=1) == "tok2"


async def test_an_unanswered_click_stops_holding_the_edit_after_the_wait() -> None:
    clicked = ClickedMessages(Clock())
    clicked.clicked("D1", "m1", "tok")
    assert await clicked.token("D1", "m1", wait=0.05) is None


async def test_tokens_expire_and_a_newer_click_replaces_an_older_one() -> None:
    clock = Clock()
    clicked = ClickedMessages(clock)
    clicked.clicked("D1", "m1", "old")
    clicked.clicked("D1", "m1", "new")
    clicked.answered("D1", "m1", "old", deferred_update=True)  # the stale one: ignored
    assert clicked.available("D1", "m1")
    clicked.answered("D1", "m1", "new", deferred_update=True)
    assert await clicked.token("D1", "m1", wait=1) == "new"
    clock.t += LIFETIME + 1
    assert not clicked.available("D1", "m1")
    assert await clicked.token("D1", "m1", wait=1) is None
    assert await clicked.token("D9", "never", wait=1) is None


async def test_memory_is_bounded() -> None:
    clicked = ClickedMessages(Clock())
    clicked.clicked("D0", "first", "t")
    waiting = asyncio.create_task(clicked.token("D0", "first", wait=5))
    for n in range(MAX_REMEMBERED):
        clicked.clicked("D1", f"m{n}", "t")
    assert await waiting is None  # dropped, and its waiter told at once
    assert not clicked.available("D0", "first")
    assert clicked.available("D1", f"m{MAX_REMEMBERED - 1}")
