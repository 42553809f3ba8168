"""Item import (SPEC §3) on the real store: SQLite by default, PostgreSQL when
HDOPS_TEST_DATABASE_URL is set. Reads like what an ops person sees."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from hdops.cli.main import app
from hdops.domain.projects import parse_project_spec
from hdops.errors import InvalidInput
from hdops.services.items import ImportReport, import_items
from hdops.services.projects import create_project, current_version, get_project
from hdops.store.db import Store
from hdops.store.orm import Answer, Assignment, Batch, Item, Person

FIELDS = ["prompt", "response_a", "response_b"]


def make_project(store: Store, name: str = "helpful-pairs", **extra: Any) -> None:
    spec: dict[str, Any] = {
        "name": name,
        "title": "Helpfulness comparisons",
        "task": {"type": "pairwise", "fields": FIELDS},
        "overlap": 3,
        **extra,
    }
    with store.unit_of_work() as session:
        create_project(session, parse_project_spec(spec))


def record(i: int, **changes: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": f"ext-{i}",
        "data": {"prompt": f"prompt {i}", "response_a": "A says hi", "response_b": "B says hi"},
    }
    rec.update(changes)
    return rec


def write_jsonl(path: Path, records: list[dict[str, Any]] | list[str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_import(store: Store, path: Path, **kwargs: Any) -> ImportReport:
    with store.unit_of_work() as session:
        return import_items(session, "helpful-pairs", path, **kwargs)


def item_count(store: Store) -> int:
    with store.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(Item)) or 0


def get_item(store: Store, external_id: str) -> Item:
    with store.unit_of_work() as session:
        item = session.scalar(select(Item).where(Item.external_id == external_id))
        assert item is not None
        return item


def answer_item(store: Store, external_id: str) -> None:
    """Give an item one answer, the way the answer engine stores it."""
    now = datetime.now(UTC)
    with store.unit_of_work() as session:
        project = get_project(session, "helpful-pairs")
        version = current_version(session, project.id)
        item = session.scalar(select(Item).where(Item.external_id == external_id))
        assert item is not None
        person = Person(name=f"p-{external_id}", display_name="P", created_at=now)
        session.add(person)
        session.flush()
        assignment = Assignment(
            item_id=item.id,
            project_id=project.id,
            person_id=person.id,
            status="answered",
            offered_at=now,
            leased_until=now,
            closed_at=now,
            instruction_version_id=version.id,
        )
        session.add(assignment)
        session.flush()
        session.add(
            Answer(
                assignment_id=assignment.id,
                item_id=item.id,
                project_id=project.id,
                person_id=person.id,
                answer={"choice": "a"},
                instruction_version_id=version.id,
                seconds_spent=30,
                answered_at=now,
                idempotency_key=f"k-{external_id}",
                pay_rate=project.pay_per_task,
                currency=project.currency,
            )
        )
        item.answer_count += 1
        item.open_slots -= 1


@pytest.fixture
def project(store: Store) -> Store:
    make_project(store)
    return store


# --------------------------------------------------------------------------- all or nothing


def test_one_bad_line_among_1000_imports_nothing_and_names_the_line(
    project: Store, tmp_path: Path
) -> None:
    records: list[dict[str, Any]] = [record(i) for i in range(1000)]
    records[616]["data"] = {"prompt": "only a prompt", "response_a": "a"}
    path = write_jsonl(tmp_path / "batch-1.jsonl", records)

    with pytest.raises(InvalidInput) as caught:
        run_import(project, path)

    assert "1 invalid line" in caught.value.summary
    assert "nothing was imported" in caught.value.summary
    assert caught.value.problems == ["line 617: data.response_b: required"]
    assert item_count(project) == 0


def test_skip_invalid_imports_the_999_good_lines(project: Store, tmp_path: Path) -> None:
    records: list[dict[str, Any]] = [record(i) for i in range(1000)]
    records[616]["data"] = {"prompt": "only a prompt", "response_a": "a"}
    path = write_jsonl(tmp_path / "batch-1.jsonl", records)

    report = run_import(project, path, skip_invalid=True)

    assert (report.added, report.skipped_count) == (999, 1)
    assert [str(p) for p in report.skipped] == ["line 617: data.response_b: required"]
    assert item_count(project) == 999


def test_every_kind_of_bad_line_is_reported_with_its_number(project: Store, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps(record(1)).encode()
    path.write_bytes(
        b"\n".join(
            [
                good,
                b'{"id": "x", "data": {',  # 2: malformed JSON
                json.dumps(record(1)).encode(),  # 3: repeats line 1's id
                '{"id": "caf\xe9"}'.encode("latin-1"),  # 4: not UTF-8
                b"[1, 2]",  # 5: not an object
                json.dumps(record(6, gold={"choice": "c"})).encode(),  # 6: gold not an answer
                json.dumps(record(7, id="")).encode(),  # 7: empty id
                json.dumps(record(8, extra=1)).encode(),  # 8: unknown key
                b"",  # blank lines are fine
                json.dumps(record(10)).encode(),
            ]
        )
        + b"\n"
    )
    with pytest.raises(InvalidInput) as caught:
        run_import(project, path)
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == [f"line {n}" for n in (2, 3, 4, 5, 6, 7, 8)]
    assert "not valid JSON" in problems[0]
    assert "'ext-1' is already on line 1" in problems[1]
    assert "not valid UTF-8" in problems[2]
    assert "must be a JSON object" in problems[3]
    assert problems[4].startswith("line 6: gold.choice:")
    assert problems[5] == "line 7: id: must be 1-200 characters"
    assert problems[6] == "line 8: extra: unknown field"
    assert item_count(project) == 0


def test_gold_that_is_not_a_valid_answer_is_rejected_with_its_line(
    project: Store, tmp_path: Path
) -> None:
    path = write_jsonl(
        tmp_path / "gold.jsonl",
        [
            record(1, gold={"choice": "a"}),
            record(2, gold={"choice": "a", "stars": 5}),
            record(3, gold="a"),
        ],
    )
    with pytest.raises(InvalidInput) as caught:
        run_import(project, path)
    assert caught.value.problems == [
        "line 2: gold.stars: unknown field",
        "line 3: gold: must be an object in the shape of an answer",
    ]


def test_empty_file_and_wrong_suffix_are_refused(project: Store, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(InvalidInput, match=r"empty\.jsonl: the file has no items"):
        run_import(project, empty)
    with pytest.raises(InvalidInput, match=r"must end in \.jsonl or \.csv"):
        run_import(project, tmp_path / "items.xlsx")
    with pytest.raises(InvalidInput, match="file not found"):
        run_import(project, tmp_path / "missing.jsonl")


def test_utf16_file_is_refused_as_a_whole(project: Store, tmp_path: Path) -> None:
    path = tmp_path / "u16.jsonl"
    path.write_bytes(json.dumps(record(1)).encode("utf-16"))
    with pytest.raises(InvalidInput, match="UTF-16"):
        run_import(project, path)


# --------------------------------------------------------------------------- new items


def test_new_items_get_target_slots_gold_flag_and_batch(project: Store, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "week-12.jsonl", [record(1), record(2, gold={"choice": "b"})])
    report = run_import(project, path)
    assert report.batch == "week-12"

    plain, gold = get_item(project, "ext-1"), get_item(project, "ext-2")
    assert (plain.target, plain.answer_count, plain.open_slots, plain.is_gold) == (3, 0, 3, False)
    assert plain.gold is None
    assert (gold.is_gold, gold.gold) == (True, {"choice": "b"})
    assert plain.data == record(1)["data"]
    with project.unit_of_work() as session:
        batch = session.get(Batch, plain.batch_id)
        assert batch is not None and batch.name == "week-12"
        # SQL NULL, not the JSON text 'null': `gold IS NULL` must find plain items.
        assert session.scalar(select(func.count()).where(Item.gold.is_(None))) == 1


def test_batch_option_names_the_batch_and_reuses_it(project: Store, tmp_path: Path) -> None:
    run_import(project, write_jsonl(tmp_path / "a.jsonl", [record(1)]), batch="pilot")
    run_import(project, write_jsonl(tmp_path / "b.jsonl", [record(2)]), batch="pilot")
    with project.unit_of_work() as session:
        assert session.scalars(select(Batch.name)).all() == ["pilot"]
        batch_ids = set(session.scalars(select(Item.batch_id)))
    assert len(batch_ids) == 1


def test_extra_data_keys_are_kept(project: Store, tmp_path: Path) -> None:
    rec = record(1)
    rec["data"]["model_a"] = "m-7b"
    rec["data"]["turn"] = 3
    run_import(project, write_jsonl(tmp_path / "x.jsonl", [rec]))
    assert get_item(project, "ext-1").data == rec["data"]


# --------------------------------------------------------------------------- idempotency


def test_reimporting_the_same_file_adds_nothing(project: Store, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "items.jsonl", [record(i) for i in range(1000)])
    first = run_import(project, path)
    again = run_import(project, path)
    assert first.added == 1000
    assert (again.added, again.updated, again.unchanged, again.conflicts) == (0, 0, 1000, [])
    assert item_count(project) == 1000


def test_changed_data_updates_unanswered_items_and_conflicts_answered_ones(
    project: Store, tmp_path: Path
) -> None:
    run_import(project, write_jsonl(tmp_path / "v1.jsonl", [record(1), record(2), record(3)]))
    answer_item(project, "ext-2")
    changed = {"prompt": "new prompt", "response_a": "A2", "response_b": "B2"}
    v2 = write_jsonl(
        tmp_path / "v2.jsonl",
        [record(1, data=changed), record(2, data=changed), record(3), record(4)],
    )

    report = run_import(project, v2)

    assert (report.added, report.updated, report.unchanged) == (1, 1, 1)
    assert [(c.line, c.external_id) for c in report.conflicts] == [(2, "ext-2")]
    assert get_item(project, "ext-1").data == changed
    assert get_item(project, "ext-2").data == record(2)["data"]  # answered: untouched


def test_adding_gold_to_an_unanswered_item_makes_it_gold(project: Store, tmp_path: Path) -> None:
    run_import(project, write_jsonl(tmp_path / "v1.jsonl", [record(1)]))
    report = run_import(
        project, write_jsonl(tmp_path / "v2.jsonl", [record(1, gold={"choice": "tie"})])
    )
    assert report.updated == 1
    item = get_item(project, "ext-1")
    assert (item.is_gold, item.gold) == (True, {"choice": "tie"})


def test_ids_are_per_project(project: Store, tmp_path: Path) -> None:
    make_project(project, name="other-pairs")
    path = write_jsonl(tmp_path / "i.jsonl", [record(1)])
    run_import(project, path)
    with project.unit_of_work() as session:
        report = import_items(session, "other-pairs", path)
    assert report.added == 1
    assert item_count(project) == 2


# --------------------------------------------------------------------------- CSV


def test_csv_with_gold_column(project: Store, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(
        "id,prompt,response_a,response_b,gold\n"
        'c-1,"Is 2+2 4?","Yes, it is.","No",\n'
        'c-2,"Multi\nline prompt",A,B,"{""choice"": ""a""}"\n'
        "c-3,third,A,B,\n",
        encoding="utf-8",
    )
    report = run_import(project, path)
    assert report.added == 3
    assert get_item(project, "c-1").data == {
        "prompt": "Is 2+2 4?",
        "response_a": "Yes, it is.",
        "response_b": "No",
    }
    assert get_item(project, "c-2").gold == {"choice": "a"}
    assert get_item(project, "c-2").data["prompt"] == "Multi\nline prompt"
    assert not get_item(project, "c-3").is_gold


def test_csv_missing_column_is_one_clear_error(project: Store, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("id,prompt,response_a\nc-1,p,a\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"missing column.*response_b"):
        run_import(project, path)
    assert item_count(project) == 0


def test_csv_bad_rows_are_reported_by_starting_line(project: Store, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(
        "id,prompt,response_a,response_b,gold\n"
        'c-1,"two\nlines",A,B,{not json}\n'  # starts on line 2
        "c-2,p,A\n"  # line 4: a cell short
        'c-3,p,A,B,"{""choice"": ""maybe""}"\n'  # line 5
        "c-4,,A,B,\n",  # line 6: empty prompt
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as caught:
        run_import(project, path)
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 4", "line 5", "line 6"]
    assert "gold: not valid JSON" in problems[0]
    assert "expected 5 cells, got 3" in problems[1]
    assert problems[2].startswith("line 5: gold.choice:")
    assert problems[3] == "line 6: data.prompt: must not be empty"


def test_csv_with_only_a_header_has_no_items(project: Store, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("id,prompt,response_a,response_b\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="no items"):
        run_import(project, path)


def test_progress_is_reported_up_to_the_file_size(project: Store, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "items.jsonl", [record(i) for i in range(5000)])
    calls: list[tuple[int, int]] = []
    run_import(project, path, progress=lambda done, total: calls.append((done, total)))
    size = path.stat().st_size
    assert calls and calls[-1] == (size, size)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("HDOPS_DATABASE_URL", db_url)
    return CliRunner()


def test_cli_import_prints_counts(project: Store, cli: CliRunner, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "items.jsonl", [record(i) for i in range(20)])
    result = cli.invoke(app, ["items", "import", "helpful-pairs", str(path), "--batch", "b1"])
    assert result.exit_code == 0, result.output
    assert "20 added, 0 updated, 0 unchanged, 0 conflicts, 0 skipped" in result.stdout

    again = cli.invoke(app, ["items", "import", "helpful-pairs", str(path), "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["unchanged"] == 20


def test_cli_lists_problems_capped_and_exits_non_zero(
    project: Store, cli: CliRunner, tmp_path: Path
) -> None:
    records: list[dict[str, Any] | str] = [record(i) for i in range(200)]
    for i in range(0, 200, 2):
        records[i] = "{oops"
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records))

    result = cli.invoke(app, ["items", "import", "helpful-pairs", str(path)])

    assert result.exit_code == 2
    assert "100 invalid line(s); nothing was imported" in result.stderr
    assert "line 1: not valid JSON" in result.stderr
    assert result.stderr.count("not valid JSON") == 50
    assert "… and 50 more" in result.stderr
    assert item_count(project) == 0

    skipped = cli.invoke(app, ["items", "import", "helpful-pairs", str(path), "--skip-invalid"])
    assert skipped.exit_code == 0, skipped.output
    assert "100 added" in skipped.stdout and "100 skipped" in skipped.stdout
    assert "line 199: not valid JSON" not in skipped.stderr  # beyond the first 50
    assert item_count(project) == 100


def test_cli_unknown_project_is_one_line(cli: CliRunner, store: Store, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "items.jsonl", [record(1)])
    result = cli.invoke(app, ["items", "import", "nope", str(path)])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: no project named 'nope'"


def test_reimport_does_not_change_an_item_someone_is_working_on(
    store: Store, tmp_path: Path
) -> None:
    """Changing an item's text under an open task would make its answer meaningless."""
    from hdops.services.dispatch import assign_next_task
    from tests.helpers import contractor, make_project

    path = tmp_path / "items.jsonl"
    path.write_text(
        json.dumps({"id": "x1", "data": {"prompt": "p", "response_a": "a", "response_b": "b"}})
        + "\n"
    )
    with store.unit_of_work() as s:
        make_project(s)
        person = contractor(s, "held")
        import_items(s, "helpful-pairs", path)
        assert assign_next_task(s, person, datetime.now(UTC)) is not None
    path.write_text(
        json.dumps(
            {"id": "x1", "data": {"prompt": "changed", "response_a": "a", "response_b": "b"}}
        )
        + "\n"
    )
    with store.unit_of_work() as s:
        report = import_items(s, "helpful-pairs", path)
    assert report.updated == 0 and len(report.conflicts) == 1


def test_a_file_without_newlines_is_refused_without_reading_it_whole(
    store: Store, tmp_path: Path
) -> None:
    """200 MB with no newline (sparse: no disk used) is refused at its first 16 MiB,
    with nothing imported and memory bounded by the line cap, not the file."""
    make_project(store)
    path = tmp_path / "items.jsonl"
    with path.open("wb") as f:
        f.truncate(200 * 2**20)
    tracemalloc.start()
    try:
        refused = pytest.raises(InvalidInput, match="line 1: longer than 16 MiB")
        with refused, store.unit_of_work() as s:
            import_items(s, "helpful-pairs", path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 48 * 2**20, peak
    with store.read() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 0
