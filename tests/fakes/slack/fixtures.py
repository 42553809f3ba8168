"""pytest fixture: a started `FakeSlack` that fails the test if the app broke Slack's rules.

In a test module (or the root conftest.py): `pytest_plugins = ["tests.fakes.slack.fixtures"]`.
To connect a bolt app, see `tests.fakes.slack.bolt_apps`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .server import FakeSlack


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A fresh fake workspace on 127.0.0.1; at teardown `fake.violations` must be empty."""
    fake = await FakeSlack().start()
    try:
        yield fake
    finally:
        await fake.stop()
    problems = "\n".join(f"  {v.method}: {v.problem}" for v in fake.violations)
    assert not fake.violations, f"the app broke Slack's rules:\n{problems}"
