"""A fake Discord for end-to-end tests: HTTP API, Gateway websocket, a guild model.

As strict as Discord by default: every request validated against Discord's official
OpenAPI spec (tests/specs/discord/), the documented message and component limits,
per-route rate limits, the 3-second interaction deadline. Leniency is asked for by name,
with a reason (`LENIENCIES`). See `server.FakeDiscord` for the API and
`fixtures.fake_discord` for the pytest fixture.
"""

from .guild import FakeChannel, FakeGuild, FakeMessage, FakeUser
from .server import LENIENCIES, Call, FakeDiscord, FakeModal, Interaction, Violation

__all__ = [
    "LENIENCIES",
    "Call",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeMessage",
    "FakeModal",
    "FakeUser",
    "Interaction",
    "Violation",
]
