"""Weekly payouts in chat: the Monday job, private statements, disputes, approval."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hdops.chat import Image
from hdops.config import Settings
from hdops.services import payouts
from hdops.services.answers import reject_answer
from hdops.store.orm import (
    Adjustment,
    AuditEntry,
    Dispute,
    OutboxMessage,
    PayoutStatement,
    PayoutWeek,
)
from tests.flows.conftest import Harness
from tests.helpers import T0, add_items, contractor, make_project, ops
from tests.payout_data import answer, check_in

MONDAY_AFTER = T0 + timedelta(days=7)  # 2026-03-09 09:00 UTC: the job drafts 2026-W10


def _week_of_work(h: Harness) -> None:
    """alice: 3 tasks at 0.40 + 2 h at 18.50; bob: 2 tasks, one rejected."""
    with h.store.unit_of_work() as s:
        p = make_project(s)
        items = add_items(s, p, 4)
        alice = contractor(s, "alice", hourly_rate="18.50")
        bob = contractor(s, "bob")
        ops(s, "otto")
        for i in range(3):
            answer(s, alice, items[i], T0 + timedelta(hours=1 + i))
        answer(s, bob, items[0], T0 + timedelta(hours=2))
        answer(s, bob, items[1], T0 + timedelta(hours=3), status="rejected", reason="ignored B")
        check_in(s, alice, T0 + timedelta(days=1), T0 + timedelta(days=1, hours=2), "18.50")


def _run_job(h: Harness) -> payouts.WeeklyRun:
    with h.store.unit_of_work() as s:
        return payouts.run_weekly_payouts(s, h.clock.now(), h.core.settings)


async def test_monday_job_posts_summary_and_private_statements(harness: Harness) -> None:
    h = harness
    _week_of_work(h)
    h.clock.set(MONDAY_AFTER)
    run = _run_job(h)
    assert str(run.week) == "2026-W10" and run.statements == 2
    await h.flush()

    summary = h.chat.channel("ops")[-1]
    text = summary.text
    assert "Payouts 2026-W10" in text and "draft" in text
    assert "alice" in text and "bob" in text
    assert "38.20 USD" in text  # alice: 3 × 0.40 + 2 h × 18.50
    assert "0.40 USD" in text  # bob: one accepted task
    assert "Total USD" in text and "38.60 USD" in text
    assert any(isinstance(p, Image) for p in summary.message.parts)
    assert [b.label for b in summary.message.buttons()] == ["Approve"]

    alice_dm = h.chat.inbox("alice")[-1].text
    assert "Your statement 2026-W10" in alice_dm and "38.20 USD" in alice_dm
    assert "2.00 h checked in × 18.50/h" in alice_dm
    assert "bob" not in alice_dm and "0.40 USD" not in alice_dm.replace("38.20 USD", "")
    bob_dm = h.chat.inbox("bob")[-1].text
    assert "rejected answer" in bob_dm and "reason: ignored B" in bob_dm
    assert "alice" not in bob_dm and "38.20" not in bob_dm and "18.5" not in bob_dm


async def test_job_run_twice_or_after_restart_sends_one_statement_each(harness: Harness) -> None:
    h = harness
    _week_of_work(h)
    h.clock.set(MONDAY_AFTER)
    _run_job(h)
    _run_job(h)
    await h.flush()
    # a restart: a new core and delivery loop on the same database, the job again
    from bots.local.platform import LocalChat
    from bots.runtime import bootstrap

    restarted = bootstrap(h.core.settings, h.store, [LocalChat], h.clock)
    h.clock.advance(timedelta(minutes=5))
    with h.store.unit_of_work() as s:
        again = payouts.run_weekly_payouts(s, h.clock.now(), h.core.settings)
    assert again.dms_queued == 0 and not again.summary_queued
    assert await restarted.deliverer.deliver_due() == 0

    for name in ("alice", "bob"):
        statements = [m for m in h.chat.inbox(name) if "Your statement" in m.text]
        assert len(statements) == 1, name
    assert sum("Payouts 2026-W10" in m.text for m in h.chat.channel("ops")) == 1
    with h.store.unit_of_work() as s:
        assert s.scalar(select(func.count(PayoutStatement.id))) == 2
        assert s.scalar(select(func.count(PayoutWeek.week))) == 1


async def test_contractor_sees_only_own_statement_on_demand(harness: Harness) -> None:
    h = harness
    _week_of_work(h)
    h.clock.set(MONDAY_AFTER)
    own = h.chat.command("bob", "/hdops payouts")
    assert own.message is not None
    text = own.message.plain()
    assert "Your statement 2026-W10" in text and "0.40 USD" in text
    assert "alice" not in text and "38.20" not in text and "Total USD" not in text
    # bob cannot ask for everyone's, nor approve, nor adjust
    assert (
        "Only ops" in (h.chat.command("bob", "payouts approve last").message or own.message).plain()
    )
    reply = h.chat.command("bob", "payouts adjust alice 5 --reason x")
    assert reply.message is not None and "Only ops" in reply.message.plain()
    # ops see everyone
    everyone = h.chat.command("otto", "/hdops payouts --week 2026-W10")
    assert everyone.message is not None
    assert "alice" in everyone.message.plain() and "bob" in everyone.message.plain()


async def test_dispute_thread_relays_both_ways_and_blocks_approval(harness: Harness) -> None:
    h = harness
    _week_of_work(h)
    h.clock.set(MONDAY_AFTER)
    _run_job(h)
    await h.flush()
    statement = h.chat.inbox("bob")[-1]
    form = h.chat.press("bob", statement.id, "Dispute line 2").form
    assert form is not None and "rejected" in (form.intro or "")
    # alice cannot dispute bob's line even with its action id
    line_action = h.chat.find_control(statement.id, "Dispute line 2").action_id
    refused = h.core.action("console:alice", line_action)
    assert refused.message is not None and "your own statement" in refused.message.plain()

    h.chat.submit("bob", {"reason": "My answer followed the FAQ @here"})
    await h.flush()
    post = h.chat.channel("ops")[-1]
    assert "Dispute #1" in post.text and "My answer followed the FAQ" in post.text
    assert "@here" not in post.text
    bob_thread = next(m for m in h.chat.inbox("bob") if "went to ops" in m.text)

    h.chat.reply("otto", post.id, "Which FAQ entry?")
    await h.flush()
    assert "otto (ops): Which FAQ entry?" in h.chat.thread(bob_thread.id)[-1].text
    h.chat.reply("bob", bob_thread.id, "Entry 3, about ties.")
    await h.flush()
    assert "bob (contractor): Entry 3, about ties." in h.chat.thread(post.id)[-1].text

    summary = next(m for m in h.chat.channel("ops") if "Payouts 2026-W10" in m.text)
    refused = h.chat.press("otto", summary.id, "Approve")
    assert refused.message is not None and "open dispute" in refused.message.plain()
    listed = h.chat.command("otto", "/hdops payouts --week last")
    assert listed.message is not None and "Open disputes" in listed.message.plain()

    form = h.chat.press("otto", post.id, "Accept (adjust)").form
    assert form is not None
    bad = h.chat.submit("otto", {"amount": "0.4x", "note": "ok"})
    assert "amount" in bad.form_errors
    h.chat.submit("otto", {"amount": "0.40", "note": "FAQ entry 3 allows it"})
    await h.flush()
    assert "accepted" in h.chat.thread(bob_thread.id)[-1].text
    assert "Accepted by otto" in h.chat.messages[post.id].text
    # the draft changed (bob +0.40): his DM is edited, and approval wants a fresh look
    assert "0.80 USD" in h.chat.messages[statement.id].text
    with h.store.unit_of_work() as s:
        adj = s.scalars(select(Adjustment)).one()
        assert adj.week == "2026-W10" and adj.amount == Decimal("0.40")
        assert s.scalars(select(Dispute.status)).one() == "accepted"

    # the summary otto looks at predates the correction: Approve shows the week as it
    # is now instead, and approving that approves what he has seen
    fresh = h.chat.press("otto", summary.id, "Approve").message
    assert fresh is not None and "changed since they were last shown" in fresh.plain()
    assert "0.80 USD" in fresh.plain() and [b.label for b in fresh.buttons()] == ["Approve"]
    with h.store.unit_of_work() as s:
        assert (
            s.scalars(select(AuditEntry).where(AuditEntry.action == "payout.approve")).all() == []
        )
    await h.flush()
    assert "39.00 USD" in h.chat.messages[summary.id].text  # the channel's copy is current
    approved = h.chat.press("otto", summary.id, "Approve")
    assert (
        approved.message is not None and "Approved payouts for 2026-W10" in approved.message.plain()
    )
    await h.flush()
    assert "approved" in h.chat.messages[summary.id].text
    assert not h.chat.messages[summary.id].message.buttons()
    assert any("was approved: 0.80 USD" in m.text for m in h.chat.inbox("bob"))
    with h.store.unit_of_work() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "payout.approve")).one()
        assert entry.actor_id is not None and entry.at == MONDAY_AFTER
        assert entry.details["totals"] == {"USD": "39.00"}


async def test_floor_warning_before_approval(harness: Harness) -> None:
    h = harness
    _week_of_work(h)
    h.clock.set(MONDAY_AFTER)
    settings = Settings(min_hourly=Decimal("15.00"))
    h.core.settings = settings
    _run_job(h)
    await h.flush()
    summary = h.chat.channel("ops")[-1]
    # bob: 0.40 for 2 minutes on tasks = 12.00/h; alice: 38.20 over 2 h checked in = 19.10/h
    assert "below the floor of 15.00: bob (12.00/h USD)." in summary.text
    warned = h.chat.press("otto", summary.id, "Approve")
    assert warned.message is not None and "Approve anyway" in [
        b.label for b in warned.message.buttons()
    ]
    with h.store.unit_of_work() as s:
        assert s.get(PayoutWeek, "2026-W10").status == "draft"  # type: ignore[union-attr]
    anyway = warned.message.buttons()[0]
    done = h.core.action("console:otto", anyway.action_id)
    assert done.message is not None and "Approved" in done.message.plain()


async def test_rejection_after_approval_is_taken_back_next_week(harness: Harness) -> None:
    h = harness
    _week_of_work(h)
    h.clock.set(MONDAY_AFTER)
    _run_job(h)
    h.chat.command("otto", "payouts approve 2026-W10")
    with h.store.unit_of_work() as s:
        assert s.get(PayoutWeek, "2026-W10").status == "approved"  # type: ignore[union-attr]
        first = s.scalars(select(OutboxMessage.id)).all()
        alice_answer = s.scalar(select(func.min(PayoutStatement.id)))
        assert alice_answer is not None
    h.clock.advance(timedelta(days=1))
    with h.store.unit_of_work() as s:
        from hdops.services.people import get_person
        from hdops.store.orm import Answer

        a = s.scalars(
            select(Answer).where(Answer.person_id == get_person(s, "alice").id).order_by(Answer.id)
        ).first()
        assert a is not None
        reject_answer(s, get_person(s, "otto"), a.id, "copied", h.clock.now())
    h.clock.set(MONDAY_AFTER + timedelta(days=7))
    _run_job(h)
    _run_job(h)
    with h.store.unit_of_work() as s:
        w10 = s.scalars(select(PayoutStatement).where(PayoutStatement.week == "2026-W10")).all()
        assert sorted(st.total for st in w10) == [Decimal("0.40"), Decimal("38.20")]
        corrections = s.scalars(select(Adjustment).where(Adjustment.source.is_not(None))).all()
        assert [(c.week, c.amount) for c in corrections] == [("2026-W11", Decimal("-0.40"))]
        w11 = s.scalars(select(PayoutStatement).where(PayoutStatement.week == "2026-W11")).one()
        assert w11.total == Decimal("-0.40")
    assert first


@pytest.mark.parametrize("text", ["payouts approve this", "payouts approve next"])
async def test_running_week_cannot_be_approved(harness: Harness, text: str) -> None:
    h = harness
    _week_of_work(h)
    reply = h.chat.command("otto", text)
    assert reply.message is not None and "has not ended yet" in reply.message.plain()
