"""The `hdops` CLI end to end, on the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner, Result

from hdops.cli.main import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HELPFUL = EXAMPLES / "helpful-pairs"


def show_json(hdops: Any, name: str) -> dict[str, Any]:
    data = json.loads(hdops("project", "show", name, "--json").stdout)
    assert isinstance(data, dict)
    return data


def test_db_upgrade_is_idempotent(hdops: Any) -> None:
    first = hdops("db", "upgrade")
    assert "database" in first.stdout
    assert "already at" in hdops("db", "upgrade").stdout
    assert "latest:" in hdops("db", "current").stdout


def test_project_create_show_list_update(hdops: Any, tmp_path: Path) -> None:
    created = hdops("project", "create", str(HELPFUL / "spec.yaml"))
    assert "created project helpful-pairs" in created.stdout

    data = show_json(hdops, "helpful-pairs")
    assert data["name"] == "helpful-pairs"
    assert data["status"] == "active"
    assert data["items"] == 0 and data["answers"] == 0
    assert data["instruction_version"] == 1

    assert "helpful-pairs" in hdops("project", "show", "helpful-pairs").stdout
    listed = json.loads(hdops("project", "list", "--json").stdout)
    assert [p["name"] for p in listed] == ["helpful-pairs"]
    assert "helpful-pairs" in hdops("project", "list").stdout

    # The same spec again: nothing changes, no new instruction version.
    same = hdops("project", "update", str(HELPFUL / "spec.yaml"))
    assert "instructions unchanged" in same.stdout
    assert show_json(hdops, "helpful-pairs")["instruction_version"] == 1

    # Edited instructions: version 2, and the change summary is printed.
    copy = tmp_path / "helpful-pairs"
    shutil.copytree(HELPFUL, copy)
    with (copy / "instructions.md").open("a", encoding="utf-8") as f:
        f.write("\nNew rule: a response in the wrong language always loses.\n")
    updated = hdops("project", "update", str(copy / "spec.yaml"))
    assert "instructions version 2" in updated.stdout
    assert "a response in the wrong language always loses" in updated.stdout
    assert show_json(hdops, "helpful-pairs")["instruction_version"] == 2


def test_project_create_twice_is_refused(hdops: Any) -> None:
    hdops("project", "create", str(HELPFUL / "spec.yaml"))
    again = hdops("project", "create", str(HELPFUL / "spec.yaml"), ok=False)
    assert again.exit_code != 0
    assert "already exists" in again.stderr


def test_pause_and_resume(hdops: Any) -> None:
    hdops("project", "create", str(HELPFUL / "spec.yaml"))
    assert "now paused" in hdops("project", "pause", "helpful-pairs").stdout
    assert show_json(hdops, "helpful-pairs")["status"] == "paused"
    assert "already paused" in hdops("project", "pause", "helpful-pairs").stdout
    assert "now active" in hdops("project", "resume", "helpful-pairs").stdout
    assert show_json(hdops, "helpful-pairs")["status"] == "active"


def test_unknown_project_is_one_line_on_stderr(hdops: Any) -> None:
    result = hdops("project", "show", "nope", ok=False)
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: no project named 'nope'"
    assert result.stdout == ""


def test_bad_spec_lists_every_problem_and_writes_nothing(hdops: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: Bad Name\n"
        "title: Broken\n"
        "task: {type: rating, fields: [comment], scale: {min: 5, max: 2}}\n"
        "overlap: 3\n"
        "max_overlap: 2\n"
        "researchers: [U0RES1]\n",
        encoding="utf-8",
    )
    result = hdops("project", "create", str(bad), ok=False)
    assert result.exit_code != 0
    err = result.stderr
    assert "error: The project spec is not valid:" in err
    for path in (
        "name:",
        "task.scale.max: must be greater than min",
        "max_overlap:",
        "researchers:",
    ):
        assert f"  - {path}" in err, err
    assert json.loads(hdops("project", "list", "--json").stdout) == []


def test_missing_spec_file(hdops: Any, tmp_path: Path) -> None:
    result = hdops("project", "create", str(tmp_path / "nope.yaml"), ok=False)
    assert result.exit_code != 0
    assert "not found" in result.stderr


def test_person_add_list_and_roles(hdops: Any) -> None:
    added = hdops(
        "person", "add", "alice", "--slack", "U0ALICE", "--discord", "discord:123456789",
        "--tz", "Europe/London", "--role", "contractor", "--hourly-rate", "18.50",
        "--skills", "medical,coding", "--display-name", "Alice A.",
    )  # fmt: skip
    assert "added alice (slack:U0ALICE, discord:123456789; contractor)" in added.stdout
    hdops("person", "add", "rita", "--console", "rita", "--role", "researcher", "--role", "admin")

    people = {p["name"]: p for p in json.loads(hdops("person", "list", "--json").stdout)}
    assert set(people) == {"alice", "rita"}
    alice = people["alice"]
    assert alice["identities"] == ["slack:U0ALICE", "discord:123456789"]
    assert alice["roles"] == ["contractor"]
    assert alice["tz"] == "Europe/London"
    assert alice["skills"] == ["coding", "medical"]
    assert alice["hourly_rate"] == "18.50"
    assert alice["display_name"] == "Alice A."
    assert people["rita"]["roles"] == ["admin", "researcher"]

    table = hdops("person", "list").stdout
    assert "alice" in table and "slack:U0ALICE" in table and "18.50" in table
    only = json.loads(hdops("person", "list", "--role", "researcher", "--json").stdout)
    assert [p["name"] for p in only] == ["rita"]

    # PERSON accepts a name or an identity.
    assert "alice is now ops" in hdops("role", "grant", "slack:U0ALICE", "ops").stdout
    assert "already has role ops" in hdops("role", "grant", "alice", "ops").stdout
    ops = json.loads(hdops("person", "list", "--role", "ops", "--json").stdout)
    assert [p["name"] for p in ops] == ["alice"]
    assert "no longer ops" in hdops("role", "revoke", "discord:123456789", "ops").stdout
    assert json.loads(hdops("person", "list", "--role", "ops", "--json").stdout) == []

    assert "America/New_York" in hdops("tz", "console:rita", "America/New_York").stdout
    people = {p["name"]: p for p in json.loads(hdops("person", "list", "--json").stdout)}
    assert people["rita"]["tz"] == "America/New_York"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("person", "add", "bob", "--role", "boss"), "unknown role 'boss'"),
        (("person", "add", "bob", "--tz", "Nowhere/City"), "unknown timezone"),
        (("person", "add", "bob", "--slack", "lowercase"), "not a valid slack id"),
        (("person", "add", "bob", "--hourly-rate", "ten"), "decimal amount"),
        (("role", "grant", "nobody", "ops"), "no person 'nobody'"),
        (("role", "grant", "alice", "king"), "unknown role 'king'"),
        (("tz", "alice", "Mars/Base"), "unknown timezone"),
    ],
)
def test_people_errors_are_one_line(hdops: Any, args: tuple[str, ...], message: str) -> None:
    hdops("person", "add", "alice", "--console", "alice")
    result = hdops(*args, ok=False)
    assert result.exit_code != 0
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_person_update_prints_each_change_and_refuses_in_one_line(hdops: Any) -> None:
    hdops("person", "add", "alice", "--slack", "U0ALICE", "--role", "contractor")
    hdops("person", "add", "bob", "--console", "bob")
    updated = hdops(
        "person", "update", "slack:U0ALICE", "--add-console", "alice", "--add-discord", "42",
        "--remove-identity", "slack:U0ALICE", "--skills", "medical,coding",
        "--hourly-rate", "19.5", "--currency", "EUR", "--tz", "Europe/Paris",
    ).stdout  # fmt: skip
    assert updated.splitlines() == [
        "updated alice:",
        "  removed identity slack:U0ALICE",
        "  added identity discord:42",
        "  added identity console:alice",
        "  timezone: ops timezone → Europe/Paris",
        "  skills: none → coding, medical",
        "  hourly rate: none → 19.50 EUR/h (from now on)",
    ]
    alice = json.loads(hdops("person", "list", "--json").stdout)[0]
    assert alice["identities"] == ["discord:42", "console:alice"]
    assert "nothing to change" in hdops("person", "update", "alice", "--tz", "Europe/Paris").stdout
    for args, message in (
        (("--add-console", "bob"), "error: console:bob already belongs to bob"),
        (
            ("--remove-identity", "discord:42", "--remove-identity", "console:alice"),
            "error: console:alice is alice's last identity; add another one first",
        ),
        ((), "error: nothing to change"),
    ):
        result = hdops("person", "update", "alice", *args, ok=False)
        assert result.exit_code != 0 and result.stderr.startswith(message), result.stderr
        assert len(result.stderr.splitlines()) == 1


def test_person_deactivate_and_reactivate(hdops: Any) -> None:
    hdops("person", "add", "alice", "--console", "alice", "--role", "contractor")
    hdops("shift", "add", "alice", "2030-01-07", "09:00-13:00")
    out = hdops("person", "deactivate", "alice").stdout.splitlines()
    assert out[0] == "deactivated alice: no more tasks, shifts or reminders; history and pay kept"
    assert out[1].startswith("  cancelled shift #1, Mon 2030-01-07 09:00–13:00 UTC")
    assert out[2] == "  roles kept: contractor (hdops role revoke alice ROLE takes one away)"
    assert hdops("person", "deactivate", "alice").stdout == "alice is already deactivated\n"
    listed = json.loads(hdops("person", "list", "--json").stdout)
    assert listed[0]["status"] == "inactive"
    assert "alice (inactive)" in hdops("person", "list").stdout
    refused = hdops("shift", "add", "alice", "2030-01-08", "09:00-13:00", ok=False)
    assert refused.stderr.startswith("error: alice is deactivated, so they can't get shifts")
    assert hdops("person", "reactivate", "alice").stdout == "alice is active again\n"
    assert json.loads(hdops("person", "list", "--json").stdout)[0]["status"] == "active"
    hdops("shift", "add", "alice", "2030-01-08", "09:00-13:00")


def test_identity_taken_by_someone_else(hdops: Any) -> None:
    hdops("person", "add", "alice", "--slack", "slack:U0ALICE")
    result = hdops("person", "add", "mallory", "--slack", "U0ALICE", ok=False)
    assert result.exit_code != 0
    assert "slack:U0ALICE already belongs to alice" in result.stderr


@pytest.mark.parametrize(
    "example", sorted(p.parent for p in EXAMPLES.glob("*/spec.yaml")), ids=lambda p: p.name
)
def test_example_items_import(hdops: Any, example: Path) -> None:
    commands: Any = getattr(typer.main.get_command(app), "commands", {})
    if "items" not in commands:
        pytest.skip("`hdops items` is not built yet")
    (items_file,) = [p for p in example.iterdir() if p.suffix in (".jsonl", ".csv")]
    hdops("project", "create", str(example / "spec.yaml"))
    hdops("items", "import", example.name, str(items_file))
    data = show_json(hdops, example.name)
    text = items_file.read_text(encoding="utf-8")
    if items_file.suffix == ".jsonl":
        lines = text.splitlines()
        assert data["items"] == len(lines)
        assert data["gold_items"] == sum('"gold"' in line for line in lines)
    else:
        assert data["items"] >= 10 and data["gold_items"] >= 2


# --------------------------------------------------------------------------- --help


def _command_paths() -> list[tuple[str, ...]]:
    # The console script is `bots.cli:main`: it adds the adapter commands (chat, demo,
    # run) to the same app, so import it to check their --help as well.
    try:
        importlib.import_module("bots.cli")
    except ModuleNotFoundError as exc:
        if exc.name not in ("bots", "bots.cli"):
            raise
    paths: list[tuple[str, ...]] = [()]

    def walk(cmd: Any, prefix: tuple[str, ...]) -> None:
        for name, sub in getattr(cmd, "commands", {}).items():
            paths.append((*prefix, name))
            walk(sub, (*prefix, name))

    walk(typer.main.get_command(app), ())
    return paths


COMMAND_PATHS = _command_paths()


def test_my_commands_are_registered() -> None:
    expected = {
        ("project", "create"), ("project", "update"), ("project", "show"), ("project", "list"),
        ("project", "pause"), ("project", "resume"), ("person", "add"), ("person", "list"),
        ("person", "update"), ("person", "deactivate"), ("person", "reactivate"),
        ("role", "grant"), ("role", "revoke"), ("tz",), ("db", "upgrade"),
    }  # fmt: skip
    assert expected <= set(COMMAND_PATHS)


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda p: " ".join(p) or "hdops")
def test_help_works_for_every_command(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout


# --------------------------------------------------------------------------- one-line errors


def _command(path: tuple[str, ...]) -> Any:
    cmd: Any = typer.main.get_command(app)
    for name in path:
        cmd = cmd.commands[name]
    return cmd


LEAF_PATHS = [p for p in COMMAND_PATHS if p and not hasattr(_command(p), "commands")]
GROUP_PATHS = [p for p in COMMAND_PATHS if not p or hasattr(_command(p), "commands")]


def _one_error_line(result: Result) -> str:
    """The whole output of a failed command: one `error:` line on stderr, nothing else."""
    assert result.exit_code != 0, result.output
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("path", LEAF_PATHS, ids=" ".join)
def test_an_unknown_option_is_one_line_for_every_command(
    db_url: str, path: tuple[str, ...]
) -> None:
    result = CliRunner().invoke(
        app, [*path, "--no-such-option"], env={"HDOPS_DATABASE_URL": db_url}
    )
    assert result.exit_code == 2
    line = _one_error_line(result)
    command = " ".join(("hdops", *path))
    if _command(path).context_settings.get("ignore_unknown_options"):  # `adjust alice -3.20`
        assert line.endswith(f"(see `{command} --help`)"), line
    else:
        assert line == f"error: no such option: --no-such-option (see `{command} --help`)"


@pytest.mark.parametrize(
    "path",
    [p for p in LEAF_PATHS if any(param.required for param in _command(p).params)],
    ids=" ".join,
)
def test_a_missing_argument_or_option_is_one_line_for_every_command(
    db_url: str, path: tuple[str, ...]
) -> None:
    result = CliRunner().invoke(app, list(path), env={"HDOPS_DATABASE_URL": db_url})
    assert result.exit_code == 2
    line = _one_error_line(result)
    assert line.startswith("error: missing "), line
    assert line.endswith(f"(see `hdops {' '.join(path)} --help`)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("payouts", "adjust", "alice", "5"), "error: missing option '--reason'"),
        (("export", "p", "--format", "xml", "--out", "x"), "error: invalid value for '--format'"),
        (("nosuch",), "error: no such command 'nosuch' (see `hdops --help`)"),
        (("shift", "add", "alice", "mon", "09:00-13:00", "--weekly", "x"), "error: invalid value"),
    ],
)
def test_usage_errors_say_what_is_wrong_in_one_line(
    hdops: Any, args: tuple[str, ...], message: str
) -> None:
    assert _one_error_line(hdops(*args, ok=False)).startswith(message)


@pytest.mark.parametrize("path", GROUP_PATHS, ids=lambda p: " ".join(p) or "hdops")
def test_a_bare_group_prints_its_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, list(path))
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout and result.stderr == ""


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/no/such/dir/hdops.db"
    result = CliRunner().invoke(app, ["person", "list"], env={"HDOPS_DATABASE_URL": url})
    assert result.exit_code == 1
    assert _one_error_line(result) == (
        f"error: cannot open the database HDOPS_DATABASE_URL={url}: unable to open database file"
    )
    bad = CliRunner().invoke(app, ["person", "list"], env={"HDOPS_DATABASE_URL": "nosuchdb://x"})
    assert "error: HDOPS_DATABASE_URL=nosuchdb://x is not a database URL" in _one_error_line(bad)


def test_a_postgres_password_never_reaches_the_screen() -> None:
    url = "postgresql://hdops:s3cret@127.0.0.1:1/hdops"
    result = CliRunner().invoke(app, ["person", "list"], env={"HDOPS_DATABASE_URL": url})
    line = _one_error_line(result)
    assert "s3cret" not in line and "postgresql://hdops:***@127.0.0.1:1/hdops" in line


def test_a_bug_is_one_line_naming_the_file_with_the_traceback(
    hdops: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hdops.services import people

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("oops")

    monkeypatch.setattr(people, "list_people", broken)
    line = _one_error_line(hdops("person", "list", ok=False))
    assert line.startswith("error: unexpected KeyError: 'oops' — this is a bug in hdops;")
    path = Path(line.rsplit(" is in ", 1)[1])
    try:
        assert "KeyError: 'oops'" in path.read_text(encoding="utf-8")
        assert "list_people" in path.read_text(encoding="utf-8")
    finally:
        path.unlink()
