"""A fake Slack for end-to-end tests: Web API, Socket Mode, HTTP events, a workspace model.

As strict as Slack by default: rate limits, how requests are sent, arguments, Block Kit
limits and Slack's own error codes. Leniency is asked for by name, with a reason
(`LENIENCIES`). See `server.FakeSlack` for the API and `fixtures.fake_slack` for the
pytest fixture.
"""

from .server import LENIENCIES, Call, Delivery, FakeSlack, Violation
from .signing import signature, signed_headers
from .workspace import FakeChannel, FakeClock, FakeMessage, FakeUser, FakeView, Workspace

__all__ = [
    "LENIENCIES",
    "Call",
    "Delivery",
    "FakeChannel",
    "FakeClock",
    "FakeMessage",
    "FakeSlack",
    "FakeUser",
    "FakeView",
    "Violation",
    "Workspace",
    "signature",
    "signed_headers",
]
