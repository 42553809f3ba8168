"""A fake Slack for end-to-end tests: Web API, Socket Mode, HTTP events, a workspace model.

See `server.FakeSlack` for the API and `fixtures.fake_slack` for the pytest fixture.
"""

from .server import Call, Delivery, FakeSlack, Violation
from .signing import signature, signed_headers
from .workspace import FakeChannel, FakeClock, FakeMessage, FakeUser, FakeView, Workspace

__all__ = [
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
