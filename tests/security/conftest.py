"""The flow harness (real core, local chat, real store) for security tests."""

from tests.flows.conftest import harness

__all__ = ["harness"]
