"""A whole hdops on the local chat platform: real core, real outbox, real store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bots.local.platform import LocalChat
from bots.runtime import bootstrap
from hdops.clock import FakeClock
from hdops.config import Settings
from hdops.core import Core
from hdops.services.delivery import Deliverer
from hdops.store.db import Store
from tests.helpers import T0


@dataclass
class Harness:
    store: Store
    clock: FakeClock
    core: Core
    chat: LocalChat
    deliverer: Deliverer

    async def flush(self) -> int:
        return await self.deliverer.deliver_due()


@pytest.fixture
def harness(store: Store) -> Iterator[Harness]:
    clock = FakeClock(T0)
    runtime = bootstrap(Settings(), store, [LocalChat], clock)
    chat = runtime.port("console")
    assert isinstance(chat, LocalChat)
    yield Harness(store, clock, runtime.core, chat, runtime.deliverer)
