"""The even-share rule (SPEC §5): when a project's work runs out, whoever has fewer
answers in it this week is served first; with plenty of work nobody waits, and
nobody waits for people who are not working on the project."""

from __future__ import annotations

from sqlalchemy import func, select

from hdops.store.orm import Answer, Person
from tests.flows.conftest import Harness
from tests.helpers import add_items, contractor, make_project

EVEN = "its remaining work is shared out evenly"


def _answers(h: Harness) -> dict[str, int]:
    with h.store.unit_of_work() as s:
        rows = s.execute(
            select(Person.name, func.count(Answer.id))
            .join(Answer, Answer.person_id == Person.id)
            .group_by(Person.name)
        )
        return {name: int(n) for name, n in rows}


async def _answer(h: Harness, name: str) -> None:
    tasks = h.chat.open_tasks(name)
    assert tasks, f"{name} has no task"
    h.chat.press(name, tasks[-1].id, "Tie")
    await h.flush()


def _told_even(h: Harness, name: str) -> int:
    return sum(1 for m in h.chat.inbox(name) if EVEN in m.text)


async def _start(h: Harness, items: int, names: tuple[str, ...]) -> None:
    with h.store.unit_of_work() as s:
        p = make_project(s, overlap=1)
        add_items(s, p, items)
        for name in names:
            contractor(s, name)
    for name in names:
        h.chat.command(name, "next")
    await h.flush()


async def test_the_last_tasks_go_to_those_behind(harness: Harness) -> None:
    h = harness
    await _start(h, 8, ("fast", "slow1", "slow2"))  # 3 held, 5 open
    await _answer(h, "fast")  # 1 ahead of two: they need 2 to draw level, 5 open: on
    assert h.chat.open_tasks("fast")
    await _answer(h, "fast")  # 2 ahead of two: they need 4, 4 open: kept for them
    assert not h.chat.open_tasks("fast")
    assert _told_even(h, "fast") == 1
    for _ in range(2):  # the others catch up; the periodic push leaves fast waiting
        await _answer(h, "slow1")
        await _answer(h, "slow2")
        h.core.sweep()
        await h.flush()
        assert not h.chat.open_tasks("fast")
    assert _told_even(h, "fast") == 1  # told once, not at every push
    assert _answers(h) == {"fast": 2, "slow1": 2, "slow2": 2}
    # The last two tasks went to slow1 and slow2 (who hold them): 2 + 3 + 3.
    assert h.chat.open_tasks("slow1") and h.chat.open_tasks("slow2")


async def test_with_plenty_of_work_nobody_waits(harness: Harness) -> None:
    h = harness
    await _start(h, 40, ("fast", "slow1", "slow2"))
    for _ in range(12):  # 12 ahead of two who hold a task each: 24 < 25 open at the end
        await _answer(h, "fast")
        assert h.chat.open_tasks("fast")
    assert _told_even(h, "fast") == 0
    assert _answers(h) == {"fast": 12}


async def test_alone_nobody_waits(harness: Harness) -> None:
    h = harness
    await _start(h, 3, ("solo",))
    for _ in range(3):
        await _answer(h, "solo")
    assert _answers(h) == {"solo": 3}
    assert _told_even(h, "solo") == 0


async def test_nobody_waits_for_people_who_stopped_working(harness: Harness) -> None:
    """Those behind who pause and finish their task leave the team: the work they
    were kept is offered to whoever is still working, at the next push."""
    h = harness
    await _start(h, 6, ("fast", "slow1", "slow2"))  # 3 held, 3 open
    await _answer(h, "fast")  # they need 2, 3 open: on (2 open)
    await _answer(h, "fast")  # they need 4, 2 open: kept for them
    assert not h.chat.open_tasks("fast")
    for name in ("slow1", "slow2"):
        h.chat.command(name, "pause")
        await _answer(h, name)  # their last task before leaving
    assert not h.chat.open_tasks("slow1") and not h.chat.open_tasks("slow2")
    h.core.sweep()
    await h.flush()
    assert h.chat.open_tasks("fast")  # nobody else works on it: fast gets the rest
    await _answer(h, "fast")
    await _answer(h, "fast")
    assert _answers(h) == {"fast": 4, "slow1": 1, "slow2": 1}
