"""Several workers draining one outbox on PostgreSQL: a worker claiming rows while
another still holds its claim open gets other rows, at once (`FOR UPDATE SKIP
LOCKED`), and once a claim is committed nobody else takes those rows until it runs
out."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from hdops import intents
from hdops.chat import Message, Paragraph
from hdops.store import outbox
from hdops.store.db import Store
from tests.helpers import T0

pytestmark = [pytest.mark.postgres_only, pytest.mark.timeout(60)]


def _queue(store: Store, n: int) -> None:
    with store.unit_of_work() as s:
        for i in range(n):
            text = f"notice {i}"
            intents.to_channels(
                s, {"slack": f"C{i:03d}"}, Message(text=text, parts=[Paragraph(text=text)]), T0
            )


def test_two_workers_claim_disjoint_rows_without_waiting(store: Store, db_url: str) -> None:
    _queue(store, 10)
    other = Store.from_url(db_url)
    deadline = T0 + timedelta(seconds=outbox.CLAIM_SECONDS)
    try:
        with store.unit_of_work() as first:
            mine = outbox.claim_due(first, T0, deadline, limit=4)
            theirs: list[outbox.Claimed] = []

            def second_worker() -> None:
                with other.unit_of_work() as s:
                    theirs.extend(outbox.claim_due(s, T0, deadline, limit=100))

            worker = threading.Thread(target=second_worker)
            worker.start()
            worker.join(5)
            # The second worker did not wait for the first to commit.
            assert not worker.is_alive()
        assert len(mine) == 4 and len(theirs) == 6
        assert not {r.id for r in mine} & {r.id for r in theirs}
        with other.unit_of_work() as s:  # every claim is held: nothing left to take
            assert outbox.claim_due(s, T0, deadline) == []
        with other.unit_of_work() as s:  # until the claims run out
            after = outbox.claim_due(s, deadline + timedelta(seconds=1), deadline)
        assert len(after) == 10
    finally:
        other.dispose()
