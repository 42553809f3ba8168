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

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bots.cli import app
from hdops.store.db import Store
from tests.conftest import private_database
from tests.flows.conftest import harness
from tests.helpers import add_items, contractor, make_project, ops, researcher, table_rows

__all__ = ["harness"]

FILES = Path(__file__).parent / "files"
# Every case, bombs included, is refused well within this (seconds): slow is a failure.
FAST = 5.0


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


@dataclass
class Cli:
    """The `hdops` command on a seeded store: alice (contractor, 18.50 USD an hour),
    olga (ops), rita (researcher) and project helpful-pairs with two items."""

    store: Store

    def refuses(self, *args: str, names: str) -> str:
        """Run `hdops ARGS`; assert one clear refusal that contains `names` (what was
        wrong), quickly, with the store exactly as before. Returns stderr."""
        before = table_rows(self.store)
        started = time.monotonic()
        result = CliRunner().invoke(app, list(args))
        took = time.monotonic() - started
        stderr = result.stderr
        assert result.exit_code not in (0, None), (args, result.stdout[-500:])
        assert stderr.startswith("error: "), (args, stderr[:500])
        assert "Traceback" not in stderr and "this is a bug" not in stderr, stderr[:2000]
        assert len(stderr.splitlines()) <= 52, "problem lists are capped"
        assert names in stderr, (names, stderr[:500])
        assert took < FAST, f"took {took:.1f} s"
        assert table_rows(self.store) == before, args
        return stderr


@pytest.fixture(scope="session")
def seeded_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One seeded database (of the store under test) for every CLI case of the run:
    each case shows that it changed nothing, so the next one finds the same seed,
    and no case pays for emptying and seeding a database of its own."""
    with private_database(tmp_path_factory.mktemp("corpus")) as url:
        store = Store.from_url(url)
        seed(store)
        store.dispose()
        yield url


@pytest.fixture(scope="session")
def seeded(seeded_url: str) -> Iterator[Store]:
    store = Store.from_url(seeded_url)
    yield store
    store.dispose()


def seed(store: Store) -> None:
    with store.unit_of_work() as session:
        contractor(session, "alice", hourly_rate="18.50")
        ops(session, "olga")
        researcher(session, "rita")
        add_items(session, make_project(session), 2)


def _cli_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("HDOPS_DATABASE_URL", url)
    for name in ("HDOPS_COVERAGE_TARGET_HOURS", "HDOPS_MIN_HOURLY", "HDOPS_DEBUG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def cli(seeded: Store, seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The CLI on the shared seeded database: for cases that must change nothing."""
    _cli_env(monkeypatch, seeded_url)
    return Cli(seeded)


@pytest.fixture
def own_cli(store: Store, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The CLI on a freshly seeded database of the test's own: for what may write."""
    _cli_env(monkeypatch, db_url)
    seed(store)
    return Cli(store)
