"""pytest fixture: a started `FakeSlack` that fails the test if the app broke Slack's rules.

Use it from a conftest.py (or a test module) with
`from tests.fakes.slack.fixtures import fake_slack  # noqa: F401`.
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
