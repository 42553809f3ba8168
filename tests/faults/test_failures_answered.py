"""Issue 11, point 2: every interaction ends in a stored result or a private message
saying it did not work and what to do; the failure is logged and counted.

Before: Slack got its ack at once, and then an exception escaping the core (a bug, or
SQLite locked longer than the busy timeout) left the person with nothing, or with a
vague "something went wrong" where "busy, try again" was the truth. (On PostgreSQL a
request waited for ever: there was no lock timeout at all.)"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bots import metrics
from bots.runtime import bootstrap
from hdops.chat import Reply
from hdops.commands import _REGISTRY, Invocation, command
from hdops.config import Settings
from hdops.store.db import Store, create_store_engine
from hdops.store.orm import Answer, Person
from tests.conftest import ON_POSTGRES
from tests.e2e.slack_system import slack_world
from tests.fakes.slack.server import FakeSlack
from tests.helpers import add_items, contractor, make_project

pytest_plugins = ["tests.fakes.slack.fixtures"]

BUSY = "hdops is busy right now"
FAILED = "did not work"


@contextlib.contextmanager
def another_writer_holds_the_lock(db_url: str) -> Iterator[None]:
    """What a CLI command or a stuck process beside `hdops run` does: hold the write
    lock — SQLite's file lock (a plain sqlite3 connection, like any other process's),
    on PostgreSQL the tables every interaction writes or reads first."""
    if ON_POSTGRES:
        engine = create_store_engine(db_url)
        try:
            with engine.connect() as conn, conn.begin():
                conn.execute(text("LOCK TABLE processed_events, persons IN ACCESS EXCLUSIVE MODE"))
                yield
        finally:
            engine.dispose()
        return
    path = make_url(db_url).database
    assert path is not None
    sqlite = sqlite3.connect(Path(path), isolation_level=None)
    sqlite.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        sqlite.execute("ROLLBACK")
        sqlite.close()


def errors(kind: str, platform: str = "slack") -> float:
    return metrics.value("hdops_event_errors_total", platform=platform, kind=kind)


async def test_a_click_while_the_store_stays_locked_is_answered_busy_counted_and_stores_nothing(
    db_url: str, fake_slack: FakeSlack
) -> None:
    store = Store.from_url(db_url, busy_timeout=0.3)  # 30 s in production
    try:
        async with slack_world(store, fake_slack, "http") as w:
            await fake_slack.slash_command(w.alice, "/hdops", "next")
            await w.settle()
            [task] = w.tasks(w.alice)
            before = errors("action")
            with another_writer_holds_the_lock(db_url):
                click = await fake_slack.click_button(w.alice, task, "A is better")
                assert click.status == 200  # signed, acked at once
                said = await fake_slack.wait_for(
                    lambda: [m for m in fake_slack.ephemerals(w.alice) if BUSY in m.plain_text],
                    timeout=10,
                )
            await w.settle()
            assert "try again in a minute" in said[0].plain_text
            assert errors("action") == before + 1
            with store.read() as s:
                assert s.scalar(select(func.count(Answer.id))) == 0
            # The lock gone, the same button works.
            await fake_slack.click_button(w.alice, task, "A is better")
            await w.settle()
            with store.read() as s:
                assert s.scalar(select(func.count(Answer.id))) == 1
    finally:
        store.dispose()


def test_a_form_while_the_store_stays_locked_gets_the_busy_note_as_a_form_error(
    db_url: str,
) -> None:
    store = Store.from_url(db_url, busy_timeout=0.3)
    try:
        with store.unit_of_work() as s:
            contractor(s, "alice")
        core = bootstrap(Settings(), store).core
        before = errors("view_submission", "console")
        with another_writer_holds_the_lock(db_url):
            reply = core.form("console:alice", "hd:f_ask:1", {"question": "which?"}, "ev-1")
        assert reply.form_errors is not None
        assert BUSY in reply.form_errors["_"]
        assert errors("view_submission", "console") == before + 1
    finally:
        store.dispose()


@pytest.fixture
def boom_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command whose handler writes and then fails, as a bug would: registered for
    this test only."""
    monkeypatch.setattr("hdops.commands._REGISTRY", dict(_REGISTRY))

    @command("zzboom", summary="fails on purpose (tests)")
    def boom(inv: Invocation) -> Reply:
        inv.person.display_name = "half-done"
        inv.session.flush()
        raise OverflowError("Python int too large to convert to SQLite INTEGER")


@pytest.mark.usefixtures("boom_command")
def test_an_exception_escaping_a_command_is_rolled_back_counted_and_answered(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with store.unit_of_work() as s:
        add_items(s, make_project(s), 1)
        contractor(s, "alice")
    core = bootstrap(Settings(), store).core
    before = errors("command", "console")
    reply = core.command("console:alice", "zzboom")
    assert reply.message is not None and FAILED in reply.message.text
    assert "tell ops" in reply.message.text
    assert errors("command", "console") == before + 1
    with store.read() as s:
        names = s.scalars(select(Person.display_name)).all()
    assert "half-done" not in names  # rolled back
    assert any("OverflowError" in (r.exc_text or "") for r in caplog.records)
    # The next command works as usual.
    assert core.command("console:alice", "help").message is not None


@pytest.mark.usefixtures("boom_command")
async def test_a_failing_slash_command_is_answered_privately_and_counted_once(
    store: Store, fake_slack: FakeSlack
) -> None:
    async with slack_world(store, fake_slack, "socket") as w:
        before = errors("command")
        await fake_slack.slash_command(w.alice, "/hdops", "zzboom")
        await w.settle()
        said = [m.plain_text for m in fake_slack.ephemerals(w.alice)]
        assert len(said) == 1 and FAILED in said[0]
        assert errors("command") == before + 1
