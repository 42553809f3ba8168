"""Text answers in forms, rationales, gold mixing, qualification and max_share."""

from __future__ import annotations

from sqlalchemy import func, select

from hdops.store.orm import Answer, Assignment, Item, Person
from tests.flows.conftest import Harness
from tests.helpers import add_items, contractor, make_project


async def test_text_task_is_answered_through_a_form_with_field_errors(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        p = make_project(
            s, name="replies", task={"type": "text", "fields": ["ticket"], "min_chars": 20}
        )
        add_items(s, p, 2)
        contractor(s, "tess")
    h.chat.command("tess", "next")
    await h.flush()
    task = h.chat.open_tasks("tess")[0]
    form = h.chat.press("tess", task.id, "Write answer").form
    assert form is not None and form.fields[0].name == "text"
    short = h.chat.submit("tess", {"text": "too short"})
    assert "text" in short.form_errors and "at least 20" in short.form_errors["text"]
    assert "tess" in h.chat.open_forms  # the form stays open with the error
    h.chat.submit("tess", {"text": "Thanks for reaching out — here is how to reset it."})
    await h.flush()
    assert "Recorded: Thanks for reaching out" in h.chat.messages[task.id].text
    with h.store.unit_of_work() as s:
        assert s.scalar(select(func.count(Answer.id))) == 1


async def test_required_rationale_is_asked_in_a_form(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        p = make_project(
            s,
            task={
                "type": "pairwise",
                "fields": ["prompt", "response_a", "response_b"],
                "rationale": "required",
            },
        )
        add_items(s, p, 2)
        contractor(s, "rae")
    h.chat.command("rae", "next")
    await h.flush()
    task = h.chat.open_tasks("rae")[0]
    form = h.chat.press("rae", task.id, "A is better").form
    assert form is not None and form.fields[0].name == "rationale" and form.fields[0].required
    missing = h.chat.submit("rae", {"rationale": "  "})
    assert "rationale" in missing.form_errors
    h.chat.submit("rae", {"rationale": "A answers the question; B dodges it."})
    await h.flush()
    with h.store.unit_of_work() as s:
        answer = s.scalars(select(Answer)).one()
        assert answer.answer == {"choice": "a", "rationale": "A answers the question; B dodges it."}
        assert answer.rationale == "A answers the question; B dodges it."


async def test_rating_and_multi_choice_selects(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        p = make_project(
            s,
            name="tags",
            task={
                "type": "choice",
                "fields": ["text"],
                "options": ["x", "y", "z"],
                "multiple": True,
            },
        )
        add_items(s, p, 1)
        contractor(s, "cy")
    h.chat.command("cy", "next")
    await h.flush()
    task = h.chat.open_tasks("cy")[0]
    bad = h.chat.choose("cy", task.id, ["7"])
    assert bad.message is not None and "not one of" in bad.message.plain()
    h.chat.choose("cy", task.id, ["0", "2"])
    await h.flush()
    with h.store.unit_of_work() as s:
        assert s.scalars(select(Answer.answer)).one() == {"labels": ["x", "z"]}


async def test_gold_is_mixed_in_at_gold_share(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        p = make_project(s, overlap=1, gold_share=0.25)
        add_items(s, p, 30)
        add_items(s, p, 10, gold={"choice": "a"}, prefix="gold")
        contractor(s, "gil")
    h.chat.command("gil", "next")
    for _ in range(20):
        await h.flush()
        task = h.chat.open_tasks("gil")[-1]
        h.chat.press("gil", task.id, "A is better")
    await h.flush()
    with h.store.unit_of_work() as s:
        gold = s.scalar(
            select(func.count(Assignment.id))
            .join(Item, Item.id == Assignment.item_id)
            .where(Item.is_gold.is_(True))
        )
        total = s.scalar(select(func.count(Assignment.id)))
    assert total == 21 and gold is not None
    assert abs(gold / total - 0.25) <= 0.06  # exactly mixed, not by chance


async def test_qualification_screens_with_gold_then_stops_failures(harness: Harness) -> None:
    """Must show (issue 14): a contractor who fails screening gets no further
    regular task — only the project's check items, until they run out — and is
    told why exactly once; ops are told once too."""
    h = harness
    with h.store.unit_of_work() as s:
        p = make_project(
            s,
            overlap=1,
            gold_share=0.2,
            qualification={"min_gold_accuracy": 0.8, "min_gold_answered": 2},
        )
        add_items(s, p, 10)
        add_items(s, p, 5, gold={"choice": "a"}, prefix="gold")
        contractor(s, "good")
        contractor(s, "poor")
    for name, choice in (("good", "A is better"), ("poor", "B is better")):
        h.chat.command(name, "next")
        for _ in range(2):
            await h.flush()
            task = h.chat.open_tasks(name)[-1]
            assert "gold-" in task.text  # screening: only gold first
            h.chat.press(name, task.id, choice)
        await h.flush()
    assert h.chat.open_tasks("good")  # passed: gets regular work
    # Failed: from now on only check items, wrong or right, until none is left.
    offered_after = []
    while tasks := h.chat.open_tasks("poor"):
        offered_after.append(tasks[-1].text)
        h.chat.press("poor", tasks[-1].id, "B is better")
        await h.flush()
    assert len(offered_after) == 3 and all("gold-" in t for t in offered_after)
    with h.store.unit_of_work() as s:
        regular = s.scalar(
            select(func.count(Assignment.id))
            .join(Item, Item.id == Assignment.item_id)
            .join(Person, Person.id == Assignment.person_id)
            .where(Person.name == "poor", Item.is_gold.is_(False))
        )
    assert regular == 0
    told = [m.text for m in h.chat.inbox("poor") if "regular work there pauses" in m.text]
    assert len(told) == 1 and "0% (0 of 2 right; 80% needed)" in told[0]
    assert not any("accuracy on check items" in m.text for m in h.chat.inbox("good"))
    to_ops = [m.text for m in h.chat.channel("ops") if "under the bar" in m.text]
    assert len(to_ops) == 1 and to_ops[0].startswith("poor is under the bar")
    # Out of check items: the no-task reasons say so (that is news, not a repeat).
    assert "has none left for you" in h.chat.inbox("poor")[-1].text


async def test_max_share_caps_one_contractor(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        p = make_project(s, overlap=1, max_share=0.5)
        add_items(s, p, 60)
        contractor(s, "fast")
        contractor(s, "slow")
    h.chat.command("fast", "next")
    for _ in range(59):
        await h.flush()
        tasks = h.chat.open_tasks("fast")
        if not tasks:
            break
        h.chat.press("fast", tasks[-1].id, "Tie")
    await h.flush()
    with h.store.unit_of_work() as s:
        answered = s.scalar(select(func.count(Answer.id)))
    assert answered == 20  # allowed during warm-up, then capped: one person ≤ 50%


async def test_disagreement_asks_more_until_a_clear_majority(harness: Harness) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        p = make_project(s, overlap=2, max_overlap=4)
        add_items(s, p, 1)
        for name in ("d1", "d2", "d3", "d4", "d5"):
            contractor(s, name)
    for name, choice in (
        ("d1", "A is better"),
        ("d2", "B is better"),
        ("d3", "A is better"),
        ("d4", "A is better"),
        ("d5", "A is better"),
    ):
        h.chat.command(name, "next")
        await h.flush()
        tasks = h.chat.open_tasks(name)
        if not tasks:
            continue
        h.chat.press(name, tasks[-1].id, choice)
        await h.flush()
    with h.store.unit_of_work() as s:
        item = s.scalars(select(Item)).one()
        # 1-1 → ask a third; 2-1 (67%) → ask a fourth; 3-1 (75%) settles it.
        assert (item.target, item.answer_count, item.open_slots) == (4, 4, 0)
