"""Answer export (SPEC §4) on the real store: every format round-trips, raters are
stable pseudonyms, and CSV cannot smuggle formulas into a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from hdops.cli.main import app
from hdops.domain.projects import parse_project_spec
from hdops.domain.pseudonyms import alias_for, alias_number, next_aliases
from hdops.errors import InvalidInput, NotFound
from hdops.services import export as svc
from hdops.services.items import import_items
from hdops.services.people import add_person
from hdops.services.projects import (
    add_instruction_version,
    create_project,
    current_version,
    get_project,
)
from hdops.store.db import Store
from hdops.store.orm import Answer, Assignment, Item, Pseudonym

PROJECT = "helpful-pairs"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# Things that identify people and must never appear in an export.
SECRETS = ("alice-smith", "Alice Smith", "U0ALICE99", "bob-jones", "Bob Jones", "777000111")


def setup_project(store: Store, tmp_path: Path, items: list[dict[str, Any]]) -> None:
    spec = {
        "name": PROJECT,
        "title": "Helpfulness comparisons",
        "task": {
            "type": "pairwise",
            "fields": ["prompt", "response_a", "response_b"],
            "rationale": "optional",
        },
        "overlap": 3,
    }
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    with store.unit_of_work() as session:
        create_project(session, parse_project_spec(spec))
        import_items(session, PROJECT, path)
        add_person(
            session,
            "alice-smith",
            display_name="Alice Smith",
            identities=["slack:U0ALICE99"],
            roles=["contractor"],
        )
        add_person(
            session,
            "bob-jones",
            display_name="Bob Jones",
            identities=["discord:777000111"],
            roles=["contractor"],
        )
        add_person(session, "carol-white", identities=["console:carol"], roles=["contractor"])


def item(external_id: str, gold: dict[str, Any] | None = None) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": external_id,
        "data": {"prompt": "Which is kinder?", "response_a": "Hello", "response_b": "Go away"},
    }
    if gold is not None:
        rec["gold"] = gold
    return rec


def answer(
    store: Store,
    person_name: str,
    external_id: str,
    value: dict[str, Any],
    *,
    minutes: int,
    seconds: int = 42,
    rationale: str | None = None,
    status: str = "accepted",
    gold_correct: bool | None = None,
) -> None:
    """Store an answer the way the answer engine does (assignment + answer rows)."""
    from hdops.services.people import get_person

    at = T0 + timedelta(minutes=minutes)
    with store.unit_of_work() as session:
        project = get_project(session, PROJECT)
        version = current_version(session, project.id)
        person = get_person(session, person_name)
        it = session.scalar(select(Item).where(Item.external_id == external_id))
        assert it is not None
        assignment = Assignment(
            item_id=it.id,
            project_id=project.id,
            person_id=person.id,
            status="answered",
            offered_at=at - timedelta(seconds=seconds),
            leased_until=at + timedelta(minutes=20),
            closed_at=at,
            instruction_version_id=version.id,
        )
        session.add(assignment)
        session.flush()
        stored = dict(value)
        if rationale:
            stored["rationale"] = rationale
        session.add(
            Answer(
                assignment_id=assignment.id,
                item_id=it.id,
                project_id=project.id,
                person_id=person.id,
                answer=stored,
                rationale=rationale,
                instruction_version_id=version.id,
                seconds_spent=seconds,
                answered_at=at,
                idempotency_key=f"{person_name}:{external_id}",
                gold_correct=gold_correct,
                status=status,
                pay_rate=project.pay_per_task,
                currency=project.currency,
            )
        )


@pytest.fixture
def answered(store: Store, tmp_path: Path) -> Store:
    """Bob answers first, then alice; one gold item, one rejected answer, and a
    second instruction version."""
    setup_project(
        store,
        tmp_path,
        [item("q-1"), item("q-2", gold={"choice": "a"}), item('=HYPERLINK("http://x")')],
    )
    answer(store, "bob-jones", "q-1", {"choice": "b"}, minutes=0, rationale="B is blunter")
    answer(store, "alice-smith", "q-1", {"choice": "a"}, minutes=1)
    answer(store, "alice-smith", "q-2", {"choice": "a"}, minutes=2, gold_correct=True)
    answer(store, "bob-jones", "q-2", {"choice": "tie"}, minutes=3)  # gold not judged yet
    with store.unit_of_work() as session:
        add_instruction_version(session, get_project(session, PROJECT), body="Be kind.")
    answer(
        store,
        "alice-smith",
        '=HYPERLINK("http://x")',
        {"choice": "b"},
        minutes=4,
        rationale="-1 point for rudeness\nreally",
        status="rejected",
        seconds=7,
    )
    return store


def export(store: Store, tmp_path: Path, fmt: svc.ExportFormat, name: str = "out") -> Path:
    path = tmp_path / f"{name}.{fmt}"
    result = svc.export_answers(store, PROJECT, fmt, path)
    assert result.path == path
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --------------------------------------------------------------------------- content


def test_jsonl_has_one_row_per_answer_with_every_column(answered: Store, tmp_path: Path) -> None:
    rows = read_jsonl(export(answered, tmp_path, "jsonl"))

    assert [tuple(r) for r in rows] == [svc.COLUMNS] * 5
    assert [(r["item_id"], r["rater"], r["answer"]) for r in rows] == [
        ("q-1", "rater-001", {"choice": "b"}),  # bob answered first
        ("q-1", "rater-002", {"choice": "a"}),
        ("q-2", "rater-002", {"choice": "a"}),
        ("q-2", "rater-001", {"choice": "tie"}),
        ('=HYPERLINK("http://x")', "rater-002", {"choice": "b"}),  # JSONL keeps data as is
    ]
    first, last = rows[0], rows[-1]
    assert first["rationale"] == "B is blunter" and rows[1]["rationale"] is None
    assert first["answered_at"] == "2026-03-02T09:00:00Z"
    assert first["seconds_spent"] == 42 and first["status"] == "accepted"
    assert [r["gold_correct"] for r in rows] == [None, None, True, False, None]
    assert [r["instruction_version"] for r in rows] == [1, 1, 1, 1, 2]
    assert (last["status"], last["seconds_spent"]) == ("rejected", 7)


def test_csv_round_trip_and_formula_cells_are_neutralised(answered: Store, tmp_path: Path) -> None:
    path = export(answered, tmp_path, "csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))

    assert tuple(rows[0]) == svc.COLUMNS
    assert len(rows) == 5
    assert [json.loads(r["answer"]) for r in rows][:2] == [{"choice": "b"}, {"choice": "a"}]
    assert [r["gold_correct"] for r in rows] == ["", "", "true", "false", ""]
    assert rows[0]["answered_at"] == "2026-03-02T09:00:00Z"
    assert rows[-1]["item_id"] == '\'=HYPERLINK("http://x")'
    assert rows[-1]["rationale"] == "'-1 point for rudeness\nreally"
    assert rows[1]["rationale"] == ""
    for row in rows:
        assert not any(cell.startswith(svc.FORMULA_TRIGGERS) for cell in row.values())


def test_parquet_round_trip(answered: Store, tmp_path: Path) -> None:
    table = pq.read_table(export(answered, tmp_path, "parquet"))
    assert tuple(table.column_names) == svc.COLUMNS
    rows = table.to_pylist()
    assert len(rows) == 5
    assert [r["rater"] for r in rows] == [
        "rater-001",
        "rater-002",
        "rater-002",
        "rater-001",
        "rater-002",
    ]
    assert json.loads(rows[3]["answer"]) == {"choice": "tie"}
    assert rows[0]["answered_at"] == T0
    assert rows[0]["answered_at"].utcoffset() == timedelta(0)
    assert [r["gold_correct"] for r in rows] == [None, None, True, False, None]
    assert rows[-1]["item_id"] == '=HYPERLINK("http://x")'  # not a spreadsheet: unchanged


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_no_platform_id_or_name_in_any_format(
    answered: Store, tmp_path: Path, fmt: svc.ExportFormat
) -> None:
    content = export(answered, tmp_path, fmt).read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in content


def test_pseudonyms_are_stable_across_exports(answered: Store, tmp_path: Path) -> None:
    first = read_jsonl(export(answered, tmp_path, "jsonl", "first"))
    answer(answered, "carol-white", "q-1", {"choice": "a"}, minutes=10)
    second = read_jsonl(export(answered, tmp_path, "jsonl", "second"))

    assert [r["rater"] for r in second[:5]] == [r["rater"] for r in first]
    assert second[5]["rater"] == "rater-003"
    with answered.unit_of_work() as session:
        aliases = session.scalars(select(Pseudonym.alias).order_by(Pseudonym.id)).all()
    assert aliases == ["rater-001", "rater-002", "rater-003"]


def test_pages_are_read_in_answer_order(answered: Store) -> None:
    with answered.unit_of_work() as session:
        plan = svc.prepare_export(session, PROJECT)
    pages = list(svc.iter_export_rows(answered, plan, page_size=2))
    assert [len(p) for p in pages] == [2, 2, 1]
    ids = [row.answer_id for page in pages for row in page]
    assert ids == sorted(ids)


def test_answers_after_the_export_started_are_left_for_the_next(
    answered: Store, tmp_path: Path
) -> None:
    with answered.unit_of_work() as session:
        plan = svc.prepare_export(session, PROJECT)
    answer(answered, "carol-white", "q-2", {"choice": "a"}, minutes=20)  # arrives mid-export
    rows = [row for page in svc.iter_export_rows(answered, plan) for row in page]
    assert len(rows) == 5 and all(r.rater != "rater-003" for r in rows)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_a_project_without_answers_exports_an_empty_file(
    store: Store, tmp_path: Path, fmt: svc.ExportFormat
) -> None:
    setup_project(store, tmp_path, [item("q-1")])
    path = export(store, tmp_path, fmt)
    if fmt == "parquet":
        assert pq.read_table(path).num_rows == 0
    elif fmt == "csv":
        assert path.read_text().strip() == ",".join(svc.COLUMNS)
    else:
        assert path.read_text() == ""


def test_unknown_project_and_unwritable_path(store: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        svc.export_answers(store, "nope", "csv", tmp_path / "x.csv")
    setup_project(store, tmp_path, [item("q-1")])
    with pytest.raises(InvalidInput, match=r"folder .* does not exist"):
        svc.export_answers(store, PROJECT, "csv", tmp_path / "missing" / "x.csv")
    assert list(tmp_path.glob(".*partial*")) == []


def test_format_from_suffix() -> None:
    assert svc.format_for(Path("a.PARQUET"), None) == "parquet"
    assert svc.format_for(Path("a.txt"), "csv") == "csv"
    with pytest.raises(InvalidInput, match="--format"):
        svc.format_for(Path("a.txt"), None)


# --------------------------------------------------------------------------- pure parts


@given(st.text())
def test_neutralised_cells_never_start_a_formula(value: str) -> None:
    cell = svc.neutralize_csv_cell(value)
    assert not cell.startswith(svc.FORMULA_TRIGGERS)
    if value.startswith(svc.FORMULA_TRIGGERS):
        assert cell == "'" + value
    else:
        assert cell == value


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_neutralised_cells_survive_csv_quoting(values: list[str]) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerow([svc.neutralize_csv_cell(v) for v in values])
    buffer.seek(0)
    (row,) = list(csv.reader(buffer))
    assert row == [svc.neutralize_csv_cell(v) for v in values]
    assert not any(cell.startswith(svc.FORMULA_TRIGGERS) for cell in row)


def test_aliases_continue_after_the_highest() -> None:
    assert alias_for(1) == "rater-001" and alias_for(1234) == "rater-1234"
    assert alias_number("rater-042") == 42 and alias_number("alice") is None
    assert next_aliases(["rater-002", "rater-001", "custom"], 2) == ["rater-003", "rater-004"]


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("HDOPS_DATABASE_URL", db_url)
    return CliRunner()


def test_cli_export_infers_the_format(answered: Store, cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    result = cli.invoke(app, ["export", PROJECT, "--out", str(path)])
    assert result.exit_code == 0, result.output
    assert f"exported 5 answers of {PROJECT}" in result.stdout
    assert path.read_text(encoding="utf-8").startswith(",".join(svc.COLUMNS))

    pq_path = tmp_path / "answers.bin"
    result = cli.invoke(app, ["export", PROJECT, "--format", "parquet", "--out", str(pq_path)])
    assert result.exit_code == 0, result.output
    assert pq.read_table(pq_path).num_rows == 5


def test_cli_bad_format_is_refused(answered: Store, cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["export", PROJECT, "--format", "xlsx", "--out", str(tmp_path / "a")])
    assert result.exit_code != 0
    result = cli.invoke(app, ["export", PROJECT, "--out", str(tmp_path / "a.txt")])
    assert result.exit_code == 2
    assert "give --format jsonl|csv|parquet" in result.stderr
