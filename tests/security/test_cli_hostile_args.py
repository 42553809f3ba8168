"""Issue 11, the corpus: every `hdops` command, run with hostile arguments, ends
with exactly one `error:` line on stderr, a non-zero exit and the store as it was.

Hostile means: ids beyond 64 bits, weeks and dates outside the calendar or the
years hdops accepts, paths that are missing, directories or devices, amounts that
are NaN, infinite, exponents, too large, too precise or in other scripts' digits,
files nested thousands of levels deep, settings out of range and database URLs
that are garbage or point nowhere.

The commands are enumerated from the typer app, so a new command without a
hostile case here fails `test_every_command_has_hostile_cases`. Most cases run
in-process (typer's CliRunner); a few run as real processes to show that no
traceback reaches stderr there either.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from bots.cli import app
from hdops.store.db import Store
from tests.helpers import contractor, make_project, ops, researcher, table_rows

HUGE_ID = "99999999999999999999"
BAD_WEEKS = ("9999-W52", "0001-W01", "2026-W54", "１２３４-W01")
BAD_DATES = ("9999-12-31", "2026-02-30", "0000-01-01", "٢٠٢٦-٠٣-٠٢")
BAD_AMOUNTS = ("NaN", "inf", "-Infinity", "1e309", "1e27", "1e3", "0.00005", "١٢.٥٠")
BAD_RATES = (*BAD_AMOUNTS, "-5", "100000000000000")
BAD_OUT = ("/nonexistent/x.csv", "{tmp}", "{dev}", "{fifo}", "{tmp}/plain.txt/x.csv")
GARBAGE_URLS = (
    "garbage",
    "",
    "postgresql://u@[::1/x",
    "postgresql://nobody@127.0.0.1:1/x",
    "postgresql+nosuchdriver://u@h/x",
    "mysql://u@h/x",
    "sqlite:////nonexistent/dir/x.db",
    "sqlite:///{dev}",
    "sqlite:///{tmp}",
)
FAKE_SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


def cases(*arg_lists: tuple[str, ...], env: dict[str, str] | None = None) -> list[Case]:
    return [Case(args, dict(env or {})) for args in arg_lists]


def urls(*args: str, extra: dict[str, str] | None = None) -> list[Case]:
    """The command with every garbage database URL."""
    return [Case(args, {"HDOPS_DATABASE_URL": url, **(extra or {})}) for url in GARBAGE_URLS]


def weeks(*args: str) -> list[Case]:
    return cases(*((*args, "--week", w) for w in BAD_WEEKS))


CASES: dict[str, list[Case]] = {
    "export": [
        *cases(*(("export", "helpful-pairs", "--format", "csv", "--out", p) for p in BAD_OUT)),
        *urls("export", "helpful-pairs", "--out", "{tmp}/x.csv"),
    ],
    "report": [
        *cases(
            *(("report", "helpful-pairs", "--out", p.replace(".csv", ".html")) for p in BAD_OUT)
        ),
        *cases(
            ("report", "x" * 5000, "--out", "{tmp}/r.html"),
            ("report", HUGE_ID, "--out", "{tmp}/r.html"),
        ),
        *urls("report", "helpful-pairs", "--out", "{tmp}/r.html"),
    ],
    "tz": cases(("tz", "alice", "Mars/Olympus"), ("tz", "alice", "../../etc/passwd")),
    "clarifications": cases(("clarifications", "x" * 5000), ("clarifications", HUGE_ID)),
    "coverage": [
        *weeks("coverage"),
        *cases(*(("coverage", "--chart", p.replace(".csv", ".png")) for p in BAD_OUT)),
        *(
            Case(("coverage",), {"HDOPS_COVERAGE_TARGET_HOURS": v})
            for v in ("-5", "0", "25", "NaN", "1e309", "١٢")
        ),
    ],
    "chat": [
        *urls("chat", "--as", "alice"),
        *cases(("chat", "--as", HUGE_ID), ("chat", "--as", "slack:" + "U" * 5000)),
    ],
    "demo": cases(
        ("demo", "--hours", "nan"),
        ("demo", "--hours", "1e309"),
        ("demo", "--out", "{dev}"),
        ("demo", "--out", "{tmp}/plain.txt"),
        ("demo", "--seed", "1e3"),
    ),
    "run": [
        *urls("run", "--slack", extra=FAKE_SLACK),
        *cases(("run", "--slack", "--http", "99999"), ("run", "--slack", "--http", HUGE_ID)),
        *cases(
            ("run", "--slack", "--shard", "0/2"),
            ("run", "--discord", "--shard", "3/3"),
            ("run", "--discord", "--shard", HUGE_ID),
            env={**FAKE_SLACK, "DISCORD_BOT_TOKEN": "x"},
        ),
    ],
    "db upgrade": urls("db", "upgrade"),
    "db backup": [
        *cases(*(("db", "backup", p.replace(".csv", ".db")) for p in BAD_OUT)),
        *urls("db", "backup", "{tmp}/copy.db"),
    ],
    "db current": urls("db", "current"),
    "project create": [
        *cases(*(("project", "create", p) for p in ("{tmp}/deep.yaml", "{tmp}/deep_map.yaml"))),
        *cases(
            ("project", "create", "{dev}"),
            ("project", "create", "{fifo}"),
            ("project", "create", "{tmp}"),
            ("project", "create", "/nonexistent/x.yaml"),
        ),
    ],
    "project update": cases(
        ("project", "update", "{tmp}/deep.yaml"),
        ("project", "update", "{tmp}/deep_map.yaml"),
        ("project", "update", "{fifo}"),
    ),
    "project show": cases(("project", "show", HUGE_ID), ("project", "show", "x" * 5000)),
    "project list": urls("project", "list"),
    "project pause": cases(("project", "pause", "../../etc"), ("project", "pause", HUGE_ID)),
    "project resume": cases(("project", "resume", "nope"), ("project", "resume", HUGE_ID)),
    "items import": cases(
        ("items", "import", "helpful-pairs", "{tmp}/deep.jsonl"),
        ("items", "import", "helpful-pairs", "{tmp}/deep_gold.csv"),
        ("items", "import", "helpful-pairs", "{tmp}/deep.jsonl", "--skip-invalid"),
        ("items", "import", "helpful-pairs", "{dev}"),
        ("items", "import", "helpful-pairs", "{fifo}"),
        ("items", "import", "helpful-pairs", "{tmp}"),
        ("items", "import", "helpful-pairs", "/nonexistent/x.jsonl"),
    ),
    "person add": [
        *cases(*(("person", "add", "zed", "--hourly-rate", r) for r in BAD_RATES)),
        *cases(("person", "add", "zed", "--tz", "Mars/Base"), ("person", "add", "x" * 5000)),
    ],
    "person update": cases(*(("person", "update", "alice", "--hourly-rate", r) for r in BAD_RATES)),
    "person deactivate": cases(("person", "deactivate", HUGE_ID)),
    "person reactivate": cases(("person", "reactivate", HUGE_ID)),
    "person list": [*cases(("person", "list", "--role", "emperor")), *urls("person", "list")],
    "role grant": cases(("role", "grant", "alice", "emperor"), ("role", "grant", HUGE_ID, "ops")),
    "role revoke": cases(("role", "revoke", "alice", "root"), ("role", "revoke", HUGE_ID, "ops")),
    "answers reject": cases(
        ("answers", "reject", HUGE_ID, "--reason", "x", "--as", "olga"),
        ("answers", "reject", "-1", "--reason", "x", "--as", "olga"),
        ("answers", "reject", "١٢", "--reason", "x", "--as", "olga"),
    ),
    "review": cases(
        ("review", "helpful-pairs", "--accept", HUGE_ID),
        ("review", "helpful-pairs", "--reject", "-1", "--reason", "x"),
        ("review", "helpful-pairs", "--accept", "١٢"),
        ("review", "helpful-pairs", "--reject", "1", "--reason", "x" * 5000),
        ("review", HUGE_ID),
        ("review", "helpful-pairs", "--as", HUGE_ID),
    ),
    "items requeue": cases(
        ("items", "requeue", "helpful-pairs", "--answered-before-version", HUGE_ID),
        ("items", "requeue", "helpful-pairs", "--answered-before-version", "0"),
        ("items", "requeue", "helpful-pairs", "--answered-before-version", "٢"),
        ("items", "requeue", "helpful-pairs", "--answered-before-version", "99"),
        ("items", "requeue", "x" * 5000, "--answered-before-version", "1"),
    ),
    "shift add": [
        *cases(*(("shift", "add", "alice", d, "09:00-13:00") for d in BAD_DATES)),
        *cases(
            ("shift", "add", "alice", "tomorrow", "٠٩:٠٠-١٣:٠٠"),
            ("shift", "add", "alice", "tomorrow", "09:00-13:00", "--weekly", HUGE_ID),
        ),
    ],
    "shift list": weeks("shift", "list"),
    "shift cancel": cases(("shift", "cancel", HUGE_ID), ("shift", "cancel", "#" + HUGE_ID)),
    "shift move": [
        *cases(("shift", "move", HUGE_ID, "tomorrow", "09:00-10:00")),
        *cases(*(("shift", "move", "1", d, "09:00-13:00") for d in BAD_DATES)),
    ],
    "shifts ics": cases(*(("shifts", "ics", "--person", "alice", "--out", p) for p in BAD_OUT)),
    "availability add": cases(
        ("availability", "add", "alice", "mon-fri", "99:00-10:00"),
        ("availability", "add", "alice", "mon-fri", "٠٩:٠٠-١٣:٠٠"),
    ),
    "availability list": cases(("availability", "list", HUGE_ID)),
    "availability clear": cases(("availability", "clear", HUGE_ID)),
    "payouts show": [
        *weeks("payouts", "show"),
        *(Case(("payouts", "show"), {"HDOPS_MIN_HOURLY": v}) for v in ("NaN", "-1", "1e309")),
    ],
    "payouts approve": weeks("payouts", "approve", "--as", "olga"),
    "payouts export": [
        *weeks("payouts", "export", "--out", "{tmp}/p.csv", "--include-draft"),
        *cases(*(("payouts", "export", "--include-draft", "--out", p) for p in BAD_OUT)),
    ],
    "payouts adjust": [
        *cases(*(("payouts", "adjust", "alice", a, "--reason", "x") for a in BAD_AMOUNTS)),
        *weeks("payouts", "adjust", "alice", "5.00", "--reason", "x"),
    ],
    "payouts disputes": weeks("payouts", "disputes"),
    "payouts resolve": cases(
        ("payouts", "resolve", HUGE_ID, "--decline", "--note", "x"),
        ("payouts", "resolve", "0", "--decline", "--note", "x"),
        *(("payouts", "resolve", "1", "--accept", a, "--note", "x") for a in BAD_AMOUNTS),
    ),
    "outbox list": cases(
        ("outbox", "list", "--limit", HUGE_ID), ("outbox", "list", "--limit", "0")
    ),
    "outbox retry": cases(("outbox", "retry", HUGE_ID), ("outbox", "retry", "1", HUGE_ID)),
}

# A few cases as real processes: nothing but one line reaches stderr.
SUBPROCESS_CASES = (
    Case(("shift", "cancel", HUGE_ID)),
    Case(("payouts", "show", "--week", "9999-W52")),
    Case(("project", "create", "{tmp}/deep.yaml")),
    Case(("db", "upgrade"), {"HDOPS_DATABASE_URL": "postgresql://u@[::1/x"}),
    Case(("person", "update", "alice", "--hourly-rate", "1e16")),
)


def command_paths() -> list[str]:
    """Every leaf command of the `hdops` app, as `group sub`."""
    root = typer.main.get_command(app)
    found: list[str] = []

    def walk(command: Any, path: list[str]) -> None:
        if hasattr(command, "list_commands"):
            ctx = type(root).context_class(command)
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), [*path, name])
        else:
            found.append(" ".join(path))

    walk(root, [])
    return found


def test_every_command_has_hostile_cases() -> None:
    commands = command_paths()
    assert len(commands) > 30
    assert sorted(set(commands) - set(CASES)) == [], "commands without hostile cases"
    assert sorted(set(CASES) - set(commands)) == [], "cases for commands that do not exist"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def hostile_files(tmp_path: Path) -> Path:
    """Files to name: deeply nested ones, a regular file, a pipe and a device."""
    (tmp_path / "plain.txt").write_text("a regular file\n")
    os.mkfifo(tmp_path / "fifo")
    if os.geteuid() == 0:
        # As root, a broken guard would replace the real /dev/full with a CSV file
        # (it did, on the way to this test): root gets a private copy of the node.
        os.mknod(tmp_path / "full", 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    (tmp_path / "deep.yaml").write_text("name: deep\ntask: " + "[" * 100_000 + "]" * 100_000)
    nested = "".join(f"{'  ' * i}k{i}:\n" for i in range(60)) + "  " * 60 + "v: 1\n"
    (tmp_path / "deep_map.yaml").write_text("name: deep\ntask:\n" + _indent(nested))
    data = '"prompt": ' + "[" * 100_000 + "]" * 100_000
    (tmp_path / "deep.jsonl").write_text('{"id": "a", "data": {' + data + "}}\n")
    gold = '"' + "[" * 60_000 + "]" * 60_000 + '"'
    (tmp_path / "deep_gold.csv").write_text(
        f"id,prompt,response_a,response_b,gold\na,p,x,y,{gold}\n"
    )
    return tmp_path


def _indent(text: str) -> str:
    return "".join(f"  {line}\n" for line in text.splitlines())


@pytest.fixture
def seeded(store: Store, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("HDOPS_DATABASE_URL", db_url)
    for name in ("HDOPS_COVERAGE_TARGET_HOURS", "HDOPS_MIN_HOURLY", "HDOPS_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    with store.unit_of_work() as session:
        contractor(session, "alice", hourly_rate="18.50")
        ops(session, "olga")
        researcher(session, "rita")
        make_project(session)
    runner = CliRunner()
    for args in (
        ("shift", "add", "alice", "tomorrow", "09:00-13:00"),
        ("payouts", "adjust", "alice", "5.00", "--reason", "seed", "--week", "this"),
    ):
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, (args, result.stderr)
    return store


def device(tmp: Path) -> Path:
    return tmp / "full" if os.geteuid() == 0 else Path("/dev/full")


def fill(case: Case, tmp: Path) -> tuple[list[str], dict[str, str]]:
    names = {"{dev}": str(device(tmp)), "{fifo}": str(tmp / "fifo"), "{tmp}": str(tmp)}
    args, env = list(case.args), dict(case.env)
    for placeholder, value in names.items():
        args = [a.replace(placeholder, value) for a in args]
        env = {k: v.replace(placeholder, value) for k, v in env.items()}
    return args, env


def assert_one_line_refusal(case: Case, code: int, stderr: str) -> None:
    lines = stderr.splitlines()
    assert code not in (0, None), (case, stderr)
    assert len(lines) == 1, (case, stderr[:2000])
    assert lines[0].startswith("error: "), (case, lines[0])
    assert "Traceback" not in stderr and "this is a bug" not in stderr, (case, lines[0])


# --------------------------------------------------------------------------- the corpus


@pytest.fixture
def devices_untouched(hostile_files: Path) -> Iterator[None]:
    yield
    assert stat.S_ISCHR(device(hostile_files).stat().st_mode), "the device was replaced"
    assert stat.S_ISFIFO((hostile_files / "fifo").stat().st_mode), "the pipe was replaced"
    assert not Path("/nonexistent").exists()


@pytest.mark.parametrize("command", sorted(CASES))
def test_hostile_arguments_are_one_line_and_change_nothing(
    command: str, seeded: Store, hostile_files: Path, devices_untouched: None
) -> None:
    runner = CliRunner()
    before = table_rows(seeded)
    listing = sorted(p.name for p in hostile_files.iterdir())
    for case in CASES[command]:
        args, env = fill(case, hostile_files)
        result = runner.invoke(app, args, env=env)
        assert_one_line_refusal(case, result.exit_code, result.stderr)
        assert table_rows(seeded) == before, case
        assert sorted(p.name for p in hostile_files.iterdir()) == listing, case


@pytest.mark.timeout(60)
def test_hostile_arguments_in_a_real_process(
    seeded: Store, hostile_files: Path, devices_untouched: None
) -> None:
    before = table_rows(seeded)
    for case in SUBPROCESS_CASES:
        args, env = fill(case, hostile_files)
        done = subprocess.run(
            [sys.executable, "-m", "bots.cli", *args],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert_one_line_refusal(case, done.returncode, done.stderr)
    assert table_rows(seeded) == before
