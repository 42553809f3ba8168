"""pytest fixture: a started `FakeSlack` that fails the test if the app broke Slack's rules.

In a test module (or the root conftest.py): `pytest_plugins = ["tests.fakes.slack.fixtures"]`.
To connect a bolt app, see `tests.fakes.slack.bolt_apps`.

The fake is as strict as Slack. A test that needs it kinder says where and why, by name:

    @pytest.mark.slack_lenient(rate_limits="measures the fake's own throughput")
    async def test_x(fake_slack: FakeSlack) -> None: ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .server import FakeSlack


@pytest.fixture
async def fake_slack(request: pytest.FixtureRequest) -> AsyncIterator[FakeSlack]:
    """A fresh fake workspace on 127.0.0.1, lenient only where the test's
    `slack_lenient` marker says; at teardown `fake.violations` must be empty."""
    marker = request.node.get_closest_marker("slack_lenient")
    if marker is not None and marker.args:
        raise TypeError("slack_lenient takes name=reason keywords, e.g. rate_limits='why'")
    fake = await FakeSlack(lenient=dict(marker.kwargs) if marker else None).start()
    try:
        yield fake
    finally:
        await fake.stop()
    problems = "\n".join(f"  {v.method}: {v.problem}" for v in fake.violations)
    assert not fake.violations, f"the app broke Slack's rules:\n{problems}"
