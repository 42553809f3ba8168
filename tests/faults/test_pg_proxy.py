"""PostgreSQL connections cut mid-transaction, through a loopback proxy the test
controls (`tcp_proxy.py`; the shared server is never restarted).

After each cut: the operation that was cut failed (or answered "did not work") and
wrote nothing half-way, the next operation works (the pool's pre-ping drops the dead
connection), and an answer retried with the same event id is stored exactly once —
also when the cut fell between COMMIT and its reply."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bots.runtime import bootstrap
from hdops import intents
from hdops.chat import Message, Paragraph
from hdops.clock import FakeClock
from hdops.config import Settings
from hdops.services.delivery import Deliverer
from hdops.store import outbox
from hdops.store.db import Store
from hdops.store.orm import Answer, Assignment, OutboxMessage, Person
from tests.faults.tcp_proxy import CuttableProxy
from tests.helpers import T0, add_items, contractor, make_project
from tests.integration.test_delivery import ScriptedPort

pytestmark = pytest.mark.postgres_only

# Cut points, in bytes the client sends after arming: from the first statement's
# first bytes to the COMMIT of a whole answer (an answer sends a few kB).
CUTS = (0, 40, 120, 300, 700, 1200, 2000, 3000, 4500, 6500, 9000, 20000)


@pytest.fixture
def proxy(db_url: str) -> Iterator[CuttableProxy]:
    url = make_url(db_url)
    p = CuttableProxy((url.host or "127.0.0.1", url.port or 5432))
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def proxied(db_url: str, proxy: CuttableProxy) -> Iterator[Store]:
    url = make_url(db_url).set(host="127.0.0.1", port=proxy.port)
    s = Store.from_url(url.render_as_string(hide_password=False))
    try:
        yield s
    finally:
        s.dispose()


def _people(store: Store) -> list[str]:
    with store.read() as s:
        return list(s.scalars(select(Person.name).order_by(Person.name)))


def test_a_cut_mid_transaction_writes_nothing_and_the_next_one_works(
    store: Store, proxied: Store, proxy: CuttableProxy
) -> None:
    with pytest.raises(DBAPIError), proxied.unit_of_work() as s:
        contractor(s, "alice")
        s.flush()  # alice sent, inside the open transaction
        proxy.cut()
        contractor(s, "bob")
        s.flush()
    assert _people(store) == []  # nothing half-written
    with proxied.unit_of_work() as s:  # a fresh connection, through the same proxy
        contractor(s, "carol")
    assert _people(store) == ["carol"]


def test_answers_cut_at_many_points_are_stored_exactly_once(
    store: Store, proxied: Store, proxy: CuttableProxy
) -> None:
    with store.unit_of_work() as s:
        add_items(s, make_project(s, overlap=1), len(CUTS) + 1)
        contractor(s, "alice")
    core = bootstrap(Settings(), proxied).core
    outcomes = []
    for n, cut in enumerate(CUTS):
        core.command("console:alice", "next")
        with store.read() as s:
            assignment = s.scalars(
                select(Assignment.id).where(Assignment.status == "offered")
            ).one()
        proxy.cut_after(cut)
        event = f"slack:act:alice:{n}"
        try:
            reply = core.action("console:alice", f"hd:ans:{assignment}:a", [], event)
            said = reply.message.text if reply.message else ""
            outcomes.append("did not work" not in said and "busy" not in said)
        except DBAPIError:
            outcomes.append(False)
        cut_it = not proxy.armed
        proxy.cut_after(10**9)  # disarm
        with store.read() as s:
            stored = s.scalar(select(func.count()).where(Answer.assignment_id == assignment))
        assert stored in (0, 1), (cut, stored)
        # Slack redelivers what was not acknowledged; the person may click again.
        core.action("console:alice", f"hd:ans:{assignment}:a", [], event)
        with store.read() as s:
            stored = s.scalar(select(func.count()).where(Answer.assignment_id == assignment))
            total = s.scalar(select(func.count(Answer.id)))
        assert stored == 1 and total == n + 1, (cut, cut_it, stored, total)
    assert proxy.cuts >= len(CUTS) - 2, "most cut points must fall inside an answer"
    assert not all(outcomes), "no cut ever failed an answer: the proxy cut nothing"


def _msg(text: str) -> Message:
    return Message(text=text, parts=[Paragraph(text=text)])


async def test_outbox_claims_cut_at_many_points_send_each_message_once(
    store: Store, proxied: Store, proxy: CuttableProxy
) -> None:
    clock = FakeClock(T0)
    with store.unit_of_work() as s:
        for n in range(len(CUTS)):
            intents.to_channels(s, {"slack": f"C0{n:03d}"}, _msg(f"message {n}"), T0)
    port = ScriptedPort()
    deliverer = Deliverer(proxied, {"slack": port}, Settings(), clock)
    for cut in CUTS:
        proxy.cut_after(cut)
        with contextlib.suppress(DBAPIError):
            await deliverer.deliver_due()
        proxy.cut_after(10**9)
        clock.advance(timedelta(seconds=outbox.CLAIM_SECONDS + 1))  # dead claims run out
    for _ in range(5):
        clock.advance(timedelta(seconds=outbox.CLAIM_SECONDS + 1))
        await deliverer.deliver_due()
    with store.read() as s:
        statuses = set(s.scalars(select(OutboxMessage.status)))
    texts = [c.text for c in port.calls]
    assert statuses == {"sent"}
    assert sorted(texts) == sorted(f"message {n}" for n in range(len(CUTS))), texts
    assert proxy.cuts >= 3
