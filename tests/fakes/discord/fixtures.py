"""pytest fixture: a started `FakeDiscord` that fails the test if the bot broke Discord's rules.

In a test module (or the root conftest.py): `pytest_plugins = ["tests.fakes.discord.fixtures"]`.

The fake is as strict as Discord. A test that needs it kinder says where and why, by name:

    @pytest.mark.discord_lenient(rate_limits="measures the fake's own throughput")
    async def test_x(fake_discord: FakeDiscord) -> None: ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .server import FakeDiscord


@pytest.fixture
async def fake_discord(request: pytest.FixtureRequest) -> AsyncIterator[FakeDiscord]:
    """A fresh fake guild on 127.0.0.1, lenient only where the test's `discord_lenient`
    marker says; at teardown `fake.violations` must be empty."""
    marker = request.node.get_closest_marker("discord_lenient")
    if marker is not None and marker.args:
        raise TypeError("discord_lenient takes name=reason keywords, e.g. rate_limits='why'")
    fake = await FakeDiscord(lenient=dict(marker.kwargs) if marker else None).start()
    try:
        yield fake
    finally:
        await fake.stop()
    problems = "\n".join(f"  {v.route}: {v.problem}" for v in fake.violations)
    assert not fake.violations, f"the bot broke Discord's rules:\n{problems}"
