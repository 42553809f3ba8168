"""The hostile-input corpus (issue 15 point 4): what it shares, and its count.

Every case is one test id naming what it attacks. A case asks for the `hostile`
fixture, which counts it as tried when it starts; the case calls
`hostile.refused()` once it has seen the one clear refusal and an unchanged store.
A case that was not refused fails its test, so the two numbers differ only when
something failed. The count is printed at the end of every run that collected
the corpus, e.g. `hostile corpus: 137 tried, 137 refused`.

Cases run against the real entry points: the `hdops` CLI (typer's runner, the
same code as the installed command), the core's command path from a chat user
and its button/form path (the flow harness: real core, local chat, real store).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.flows.conftest import harness

__all__ = ["harness"]


@dataclass
class _Tally:
    tried: int = 0
    refused: int = 0


_TALLY = _Tally()


@dataclass
class HostileCase:
    """One case of the corpus; `refused()` marks it refused (at most once)."""

    done: bool = False

    def refused(self) -> None:
        assert not self.done, "a case is refused once"
        self.done = True
        _TALLY.refused += 1


@pytest.fixture
def hostile() -> Iterator[HostileCase]:
    _TALLY.tried += 1
    yield HostileCase()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _TALLY.tried:
        terminalreporter.write_line(
            f"hostile corpus: {_TALLY.tried} tried, {_TALLY.refused} refused"
        )
