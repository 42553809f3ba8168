"""`hdops outbox list|retry`: ops see what waits or failed, and send it again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from hdops import intents
from hdops.chat import Message, Paragraph
from hdops.cli.main import app
from hdops.store import outbox
from hdops.store.db import Store
from hdops.store.orm import AuditEntry, OutboxMessage
from tests.helpers import T0, ops


@pytest.fixture
def hdops(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("HDOPS_DATABASE_URL", db_url)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Result:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        return result

    yield run


def _two_failed_one_waiting(store: Store) -> None:
    with store.unit_of_work() as s:
        for text in ("to the archived channel", "to a departed user", "still trying"):
            intents.to_channels(
                s, {"slack": "C0X"}, Message(text=text, parts=[Paragraph(text=text)]), T0
            )
        outbox.record_outcomes(
            s,
            [
                outbox.Failed(1, "slack: is_archived", attempted=True),
                outbox.Failed(2, "slack: user_not_found", attempted=True),
                outbox.Deferred(3, T0, "slack: server error 503", attempted=True),
            ],
        )


def test_list_shows_what_waits_and_what_failed(hdops: Any, store: Store) -> None:
    assert "nothing waiting" in hdops("outbox", "list").stdout
    _two_failed_one_waiting(store)
    everything = hdops("outbox", "list").stdout
    assert "is_archived" in everything and "server error 503" in everything
    failed = json.loads(hdops("outbox", "list", "--failed", "--json").stdout)
    assert [(r["id"], r["status"], r["last_error"]) for r in failed] == [
        (1, "failed", "slack: is_archived"),
        (2, "failed", "slack: user_not_found"),
    ]
    assert failed[0]["summary"] == "to the archived channel"


def test_retry_one_or_all_puts_them_back_and_is_audited(hdops: Any, store: Store) -> None:
    _two_failed_one_waiting(store)
    with store.unit_of_work() as s:
        ops(s, "olga")
    assert "1 message(s) queued again: 1" in hdops("outbox", "retry", "1", "--as", "olga").stdout
    assert "queued again: 2" in hdops("outbox", "retry", "--all").stdout
    with store.unit_of_work() as s:
        statuses = [r.status for r in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
        assert statuses == ["pending", "pending", "pending"]
        retried = s.scalars(select(OutboxMessage).where(OutboxMessage.id == 1)).one()
        assert retried.attempts == 0 and retried.retried_at is not None
        audit = [(a.action, a.subject, a.actor_id) for a in s.scalars(select(AuditEntry))]
        assert ("outbox.retry", "outbox:1", 1) in audit and (
            "outbox.retry",
            "outbox:2",
            None,
        ) in audit
    assert "no failed messages to retry" in hdops("outbox", "retry", "--all").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give the ids to retry, or --all"),
        (("1", "--all"), "give the ids to retry, or --all"),
        (("3",), "not a failed outbox row: 3"),
        (("1", "99"), "not a failed outbox row: 99"),
        (("x",), "error: invalid value for 'ids'"),
    ],
)
def test_bad_retries_say_why_and_change_nothing(
    hdops: Any, store: Store, args: tuple[str, ...], message: str
) -> None:
    _two_failed_one_waiting(store)
    usage = "give the ids" in message or args == ("x",)
    result = hdops("outbox", "retry", *args, code=2 if usage else 1)
    assert message in result.stderr
    with store.unit_of_work() as s:
        statuses = [r.status for r in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert statuses == ["failed", "failed", "pending"]


def test_retry_as_someone_without_the_ops_role_is_refused(hdops: Any, store: Store) -> None:
    _two_failed_one_waiting(store)
    from tests.helpers import contractor

    with store.unit_of_work() as s:
        contractor(s, "carl")
    result = hdops("outbox", "retry", "1", "--as", "carl", code=1)
    assert "ops" in result.stderr
