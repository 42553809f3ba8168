"""Questions go to researchers in a thread, replies come back, nothing mentions anyone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hdops.chat import Mention
from hdops.store.orm import Answer, Assignment, Clarification, InstructionVersion
from tests.flows.conftest import Harness
from tests.helpers import add_items, contractor, make_project, ops, researcher


async def _alice_with_task(h: Harness, **project: object) -> str:
    with h.store.unit_of_work() as s:
        p = make_project(s, **project)
        add_items(s, p, 4)
        contractor(s, "alice")
        researcher(s, "rita")
        ops(s, "otto")
    h.chat.command("alice", "next")
    await h.flush()
    return h.chat.open_tasks("alice")[0].id


async def test_question_reply_and_resolve_round_trip(harness: Harness) -> None:
    h = harness
    task_id = await _alice_with_task(h)
    form = h.chat.press("alice", task_id, "Ask a question").form
    assert form is not None
    h.chat.submit("alice", {"question": "Is a refusal ever more helpful? @channel <!here>"})
    await h.flush()

    post = h.chat.channel("clarifications")[-1]
    assert "alice asks" in post.text and "item it-" in post.text
    assert "<!here>" not in post.text and "@channel" not in post.text  # defanged
    assert "Is a refusal ever more helpful?" in post.text
    # alice keeps working: the asked-about task waits, and she has a new one
    assert any(m.id != task_id for m in h.chat.open_tasks("alice"))
    assert "went to the researchers" in h.chat.thread(task_id)[-1].text

    h.clock.advance(timedelta(minutes=3))
    h.chat.reply("rita", post.id, "Yes, when the request is harmful. @everyone <@U999>")
    await h.flush()
    relayed = h.chat.thread(task_id)[-1].text
    assert "rita (researcher): Yes, when the request is harmful." in relayed
    assert "@everyone" not in relayed and "<@U999>" not in relayed

    h.chat.reply("alice", task_id, "Thanks! What about partial refusals?")
    await h.flush()
    assert (
        "alice (contractor): Thanks! What about partial refusals?"
        in h.chat.thread(post.id)[-1].text
    )

    h.chat.press("rita", post.id, "Resolve")
    await h.flush()
    assert "Resolved by rita" in h.chat.messages[post.id].text
    assert "resolved by rita" in h.chat.thread(task_id)[-1].text
    with h.store.unit_of_work() as s:
        clar = s.scalars(select(Clarification)).one()
        assert clar.status == "resolved"
        assert clar.first_answered_at is not None
        assert clar.first_answered_at - clar.opened_at == timedelta(minutes=3)
        waiting = s.get(Assignment, clar.assignment_id)
        assert waiting is not None and waiting.paused_seconds == 180

    # the held item can still be answered after the question is resolved
    h.chat.press("alice", task_id, "B is better")
    await h.flush()
    assert "Recorded: B is better" in h.chat.messages[task_id].text


async def test_contractor_cannot_resolve(harness: Harness) -> None:
    h = harness
    task_id = await _alice_with_task(h)
    h.chat.command("alice", "/hdops ask what does tie mean?")
    await h.flush()
    post = h.chat.channel("clarifications")[-1]
    reply = h.chat.press("alice", post.id, "Resolve")
    assert reply.message is not None
    assert "Only ops or a researcher of helpful-pairs" in reply.message.plain()
    with h.store.unit_of_work() as s:
        assert s.scalars(select(Clarification.status)).one() == "open"
    assert task_id


async def test_add_to_faq_makes_a_new_version_shown_with_instructions(harness: Harness) -> None:
    h = harness
    task_id = await _alice_with_task(h)
    h.chat.press("alice", task_id, "Ask a question")
    h.chat.submit("alice", {"question": "Are ties allowed?"})
    await h.flush()
    post = h.chat.channel("clarifications")[-1]
    h.chat.reply("rita", post.id, "Yes, when both are equally good.")
    await h.flush()
    form = h.chat.press("rita", post.id, "Add to FAQ").form
    assert form is not None and form.fields[1].initial == "Yes, when both are equally good."
    h.chat.submit("rita", {"question": "Are ties allowed?", "answer": "Yes, when equal."})
    await h.flush()

    with h.store.unit_of_work() as s:
        versions = s.scalars(select(InstructionVersion).order_by(InstructionVersion.version)).all()
        assert [v.version for v in versions] == [1, 2]
        assert [(f.question, f.answer) for f in versions[1].faq] == [
            ("Are ties allowed?", "Yes, when equal.")
        ]
        assert s.scalars(select(Clarification.status)).one() == "resolved"
    assert any("New FAQ entry" in m.text for m in h.chat.inbox("alice"))
    # the instructions button now shows the FAQ
    current = h.chat.open_tasks("alice")[-1]
    shown = h.chat.press("alice", current.id, "Instructions").message
    assert shown is not None and "Are ties allowed?" in shown.plain()
    assert "v2" in shown.plain()
    # the task offered before the FAQ was answered after its notice showed v2, so both
    # answers record v2 (an answer records the latest version its contractor was shown)
    h.chat.press("alice", current.id, "Tie")
    await h.flush()
    following = h.chat.open_tasks("alice")[-1]
    h.chat.press("alice", following.id, "Tie")
    await h.flush()
    with h.store.unit_of_work() as s:
        from hdops.store.orm import Answer

        recorded = (
            s.execute(
                select(InstructionVersion.version)
                .join(Answer, Answer.instruction_version_id == InstructionVersion.id)
                .order_by(Answer.id)
            )
            .scalars()
            .all()
        )
        assert recorded == [2, 2]


async def test_escalation_mentions_researchers_then_tells_ops(harness: Harness) -> None:
    h = harness
    await _alice_with_task(h)
    h.chat.command("alice", "ask Which response is safer?")
    await h.flush()
    post = h.chat.channel("clarifications")[-1]
    h.clock.advance(timedelta(minutes=29))
    assert h.core.sweep()["escalated"] == 0
    h.clock.advance(timedelta(minutes=2))
    assert h.core.sweep()["escalated"] == 1
    await h.flush()
    nudge = h.chat.thread(post.id)[-1]
    assert any(
        isinstance(p, Mention) and p.identities == ["console:rita"] for p in nudge.message.parts
    )
    assert h.core.sweep()["escalated"] == 0  # not twice
    h.clock.advance(timedelta(minutes=61))
    assert h.core.sweep()["escalated"] == 1
    await h.flush()
    assert "still unanswered" in h.chat.channel("ops")[-1].text


async def test_instruction_update_tells_contractors_with_open_tasks(harness: Harness) -> None:
    from hdops.domain.projects import parse_project_spec
    from hdops.services.projects import update_project
    from tests.helpers import spec_dict

    h = harness
    await _alice_with_task(h)
    with h.store.unit_of_work() as s:
        spec = parse_project_spec(
            spec_dict(instructions="Pick the more helpful response.\nTies are fine when equal.")
        )
        _, change = update_project(s, spec, now=h.clock.now())
        assert change is not None and change.version == 2
    await h.flush()
    note = h.chat.inbox("alice")[-1].text
    assert "Instructions updated" in note and "+ Ties are fine when equal." in note


async def test_long_reply_arrives_in_labelled_pieces_in_order(harness: Harness) -> None:
    h = harness
    task_id = await _alice_with_task(h)
    h.chat.command("alice", "ask Which response is safer?")
    await h.flush()
    post = h.chat.channel("clarifications")[-1]
    long_reply = "\n\n".join(
        f"Point {i}: " + "the safer one explains its caveats. " * 30 for i in range(8)
    ).strip()
    assert len(long_reply) > 8000

    h.chat.reply("rita", post.id, long_reply)
    await h.flush()
    relayed = [m for m in h.chat.thread(task_id) if "(researcher)" in m.text]
    count = len(relayed)
    assert count >= 5
    bodies = []
    for n, message in enumerate(relayed, start=1):
        prefix = f"rita (researcher) ({n}/{count}): "
        assert message.text.startswith(prefix)
        bodies.append(message.text[len(prefix) :])
    assert "".join(bodies) == long_reply
    with h.store.unit_of_work() as s:
        from hdops.store.orm import ClarificationMessage

        kept = s.scalars(
            select(ClarificationMessage.text).where(
                ClarificationMessage.direction == "to_contractor"
            )
        ).all()
        assert kept == [long_reply]  # recorded once, whole


async def test_reply_beyond_slacks_limit_is_refused_and_nothing_is_relayed(
    harness: Harness,
) -> None:
    h = harness
    task_id = await _alice_with_task(h)
    h.chat.command("alice", "ask Which one?")
    await h.flush()
    post = h.chat.channel("clarifications")[-1]
    before = len(h.chat.thread(task_id))
    refused = h.chat.reply("rita", post.id, "x" * 40_001)
    assert refused.message is not None and "too long" in refused.message.plain()
    await h.flush()
    assert len(h.chat.thread(task_id)) == before


async def test_files_and_edits_are_relayed_deletes_explained(harness: Harness) -> None:
    from hdops.domain.relay import SharedFile

    h = harness
    task_id = await _alice_with_task(h)
    h.chat.command("alice", "ask Which one?")
    await h.flush()
    post = h.chat.channel("clarifications")[-1]
    photo = SharedFile("example.png", "https://files.example/F1")
    h.core.thread_reply("console:rita", "console", "clarifications", post.id, "", files=[photo])
    h.core.thread_reply(
        "console:rita", "console", "clarifications", post.id, "The second one.", edited=True
    )
    await h.flush()
    texts = [m.text for m in h.chat.thread(task_id)]
    assert "rita (researcher): File: example.png (https://files.example/F1)" in texts
    assert "rita (researcher), edited: The second one." in texts

    deleted = h.core.thread_deleted("console:rita", "console", "clarifications", post.id)
    assert deleted.message is not None and "does not remove" in deleted.message.plain()
    stranger = h.core.thread_deleted("console:nobody", "console", "clarifications", post.id)
    assert stranger.message is None  # not told to register just for deleting
    elsewhere = h.core.thread_deleted("console:rita", "console", "clarifications", "m99999")
    assert elsewhere.message is None


def _heading(task_text: str) -> str:
    """The first line of a task message: project and item."""
    return task_text.splitlines()[0]


async def _alice_asks_about_her_first_task(h: Harness, items: int) -> tuple[str, str]:
    """alice asks about her first task (it waits) and gets her second; rita's post."""
    with h.store.unit_of_work() as s:
        p = make_project(s, overlap=1)
        add_items(s, p, items)
        contractor(s, "alice")
        researcher(s, "rita")
    h.chat.command("alice", "next")
    await h.flush()
    asked = h.chat.open_tasks("alice")[0]
    h.chat.command("alice", "ask Is a tie allowed here?")
    await h.flush()
    return asked.id, h.chat.channel("clarifications")[-1].id


async def test_after_resolve_next_offers_the_waiting_item_again(harness: Harness) -> None:
    """The issue's transcript: alice's other work runs out, rita resolves, alice is
    told she can answer the item now, and /hdops next gives it to her."""
    h = harness
    asked_id, post_id = await _alice_asks_about_her_first_task(h, items=2)
    asked_item = _heading(h.chat.messages[asked_id].text)
    second = next(m for m in h.chat.open_tasks("alice") if m.id != asked_id)
    h.chat.press("alice", second.id, "A is better")
    await h.flush()
    h.chat.command("alice", "pause")  # she steps away while the question is open

    h.chat.press("rita", post_id, "Resolve")
    await h.flush()
    assert "You can answer this item now" in h.chat.thread(asked_id)[-1].text
    h.chat.command("alice", "next")
    await h.flush()
    assert "No task" not in (h.chat.last_notice("alice") or "")
    again = h.chat.inbox("alice")[-1]
    assert again.id != asked_id and _heading(again.text) == asked_item  # offered anew
    with h.store.unit_of_work() as s:
        held = s.scalars(select(Assignment).order_by(Assignment.id)).first()
        assert held is not None and held.status == "offered"
        assert held.leased_until == h.clock.now() + timedelta(minutes=20)  # a fresh lease
    h.clock.advance(timedelta(seconds=30))
    h.chat.press("alice", asked_id, "Tie")  # the old message keeps working
    await h.flush()
    assert "Recorded: Tie" in h.chat.messages[again.id].text  # shown on the newest copy
    reply = h.chat.press("alice", asked_id, "A is better")
    assert reply.message is not None and "already recorded" in reply.message.plain()
    with h.store.unit_of_work() as s:
        assert s.scalars(select(Answer.seconds_spent).order_by(Answer.id)).all()[-1] == 30


async def test_a_resolved_item_comes_before_new_work(harness: Harness) -> None:
    """alice is busy with another task when her question is resolved: the waiting
    item is held for her and is her next task, before any new item."""
    h = harness
    asked_id, post_id = await _alice_asks_about_her_first_task(h, items=5)
    asked_item = _heading(h.chat.messages[asked_id].text)
    h.chat.press("rita", post_id, "Resolve")
    await h.flush()
    current = [m for m in h.chat.open_tasks("alice") if m.id != asked_id]
    assert len(current) == 1  # still just the task she was working on
    h.clock.advance(timedelta(minutes=15))
    h.chat.press("alice", current[0].id, "B is better")
    await h.flush()
    nxt = h.chat.open_tasks("alice")[-1]
    assert _heading(nxt.text) == asked_item and nxt.id != asked_id
    h.clock.advance(timedelta(seconds=40))
    h.chat.press("alice", nxt.id, "Tie")
    await h.flush()
    with h.store.unit_of_work() as s:
        last = s.scalars(select(Answer).order_by(Answer.id.desc())).first()
        clar = s.scalars(select(Clarification)).one()
        assert last is not None and last.assignment_id == clar.assignment_id
        # time spent: none before the question, none while she did the other task, 40 s now
        assert last.seconds_spent == 40
