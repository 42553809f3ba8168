"""`hdops export PROJECT --aggregate` (SPEC §4) on the real store: one row per item
with its aggregated label, confidence, answers and agreement (ratings: raw and
calibrated mean and median), in every format, formula-safe in CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from hdops.cli.main import app
from hdops.errors import InvalidInput
from hdops.services.export_aggregate import aggregate_table, export_aggregate
from hdops.store.db import Store
from tests.helpers import contractor, make_project
from tests.quality_data import build_pairs, build_ratings, give, import_file

ITEMS = ["p-1", "p-2", "p-3", "g-1", "g-2", "p-4", "p-5", "p-6", "p-7"]  # import order


@pytest.fixture
def built(store: Store, tmp_path: Path) -> Store:
    with store.unit_of_work() as session:
        people = build_pairs(session, tmp_path).people
        build_ratings(session, tmp_path, people)
    return store


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_csv_has_one_row_per_item_with_label_and_confidence(built: Store, tmp_path: Path) -> None:
    out = tmp_path / "agg.csv"
    result, method = export_aggregate(built, "helpful-pairs", "csv", out)
    assert (result.rows, method) == (9, "dawid-skene")
    rows = read_csv(out)
    assert list(rows[0]) == ["item_id", "is_gold", "answers", "label", "confidence", "agreement"]
    by_id = {r["item_id"]: r for r in rows}
    assert [r["item_id"] for r in rows] == ITEMS
    # Rejected (p-6) and flagged (p-5) answers are not in the aggregate.
    assert [int(by_id[i]["answers"]) for i in ITEMS] == [3, 3, 3, 3, 2, 3, 2, 3, 0]
    assert by_id["p-2"]["label"] == "b" and float(by_id["p-2"]["agreement"]) == 1.0
    assert by_id["p-1"]["label"] == "a" and float(by_id["p-1"]["agreement"]) == pytest.approx(1 / 3)
    assert by_id["p-6"]["label"] == "a"
    for gold_item, label in (("g-1", "a"), ("g-2", "b")):  # gold keeps its label
        assert by_id[gold_item]["is_gold"] == "true"
        assert (by_id[gold_item]["label"], float(by_id[gold_item]["confidence"])) == (label, 1.0)
    for item in ITEMS[:-1]:
        assert 0.0 < float(by_id[item]["confidence"]) <= 1.0
    assert by_id["p-3"]["label"] == "a" and float(by_id["p-3"]["confidence"]) < 1.0
    # Never answered: a row all the same, with nothing to aggregate.
    assert by_id["p-7"] == {
        "item_id": "p-7",
        "is_gold": "false",
        "answers": "0",
        "label": "",
        "confidence": "",
        "agreement": "",
    }


def test_jsonl_and_parquet_carry_the_same_rows(built: Store, tmp_path: Path) -> None:
    with built.unit_of_work() as session:
        table = aggregate_table(session, "helpful-pairs")
    export_aggregate(built, "helpful-pairs", "jsonl", tmp_path / "agg.jsonl")
    export_aggregate(built, "helpful-pairs", "parquet", tmp_path / "agg.parquet")
    lines = (tmp_path / "agg.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == table.rows
    parquet = pq.read_table(tmp_path / "agg.parquet")
    assert parquet.schema.field("answers").type == pa.int64()
    assert parquet.schema.field("is_gold").type == pa.bool_()
    assert parquet.schema.field("confidence").type == pa.float64()
    assert parquet.to_pylist() == table.rows


def test_ratings_export_raw_and_calibrated_side_by_side(built: Store, tmp_path: Path) -> None:
    out = tmp_path / "ratings.jsonl"
    result, method = export_aggregate(built, "tone-rating", "jsonl", out)
    assert (result.rows, method) == (5, "offsets")
    rows = {r["item_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    # ann rates 2 above and bo 1 below what gold says (7 rated 9 and 6).
    r1 = rows["r-1"]  # ann 8, bo 5
    assert (r1["raw_mean"], r1["raw_median"]) == (6.5, 6.5)
    assert r1["calibrated_mean"] == pytest.approx(6.0)
    assert r1["calibrated_median"] == pytest.approx(6.0)
    assert r1["label"] == "6" and r1["answers"] == 2
    assert r1["agreement"] == pytest.approx(1 - 3 / 9)
    # The fit is exact here (no noise left), so the label is certain.
    assert r1["confidence"] == pytest.approx(1.0)
    assert rows["rg"]["is_gold"] is True and rows["rg"]["calibrated_mean"] == pytest.approx(7.0)
    assert rows["r-4"]["answers"] == 0 and rows["r-4"]["raw_mean"] is None
    export_aggregate(built, "tone-rating", "csv", tmp_path / "r.csv")
    assert list(read_csv(tmp_path / "r.csv")[0])[-4:] == [
        "raw_mean",
        "raw_median",
        "calibrated_mean",
        "calibrated_median",
    ]


def test_csv_cells_cannot_start_a_formula(store: Store, tmp_path: Path) -> None:
    with store.unit_of_work() as session:
        make_project(
            session,
            name="harm",
            task={"type": "choice", "fields": ["text"], "options": ["=SUM(1)", "safe"]},
        )
        import_file(session, tmp_path, "harm", "h", [{"id": "+cmd", "data": {"text": "x"}}])
        for name in ("ann", "bo"):
            give(session, contractor(session, name), "harm", "+cmd", {"labels": ["=SUM(1)"]})
    export_aggregate(store, "harm", "csv", tmp_path / "harm.csv")
    (row,) = read_csv(tmp_path / "harm.csv")
    assert row["item_id"] == "'+cmd" and row["label"] == "'=SUM(1)"
    assert row["answers"] == "2" and float(row["confidence"]) > 0.5


def test_text_projects_have_no_aggregate(store: Store, tmp_path: Path) -> None:
    with store.unit_of_work() as session:
        make_project(session, name="essays", task={"type": "text", "fields": ["prompt"]})
    with pytest.raises(InvalidInput, match="no aggregate"):
        export_aggregate(store, "essays", "csv", tmp_path / "e.csv")
    assert not (tmp_path / "e.csv").exists()


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("HDOPS_DATABASE_URL", db_url)
    return CliRunner()


def test_cli_aggregate(built: Store, cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "agg.csv"
    result = cli.invoke(app, ["export", "helpful-pairs", "--aggregate", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"exported 9 items (dawid-skene) of helpful-pairs to {out} (csv)" in result.output
    assert len(read_csv(out)) == 9
    pq_out = tmp_path / "x.bin"
    args = ["export", "tone-rating", "--aggregate", "--format", "parquet", "--out", str(pq_out)]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert pq.read_table(pq_out).num_rows == 5
    answers = cli.invoke(app, ["export", "helpful-pairs", "--out", str(tmp_path / "a.csv")])
    # Without --aggregate: one row per answer in any status, as before.
    assert "exported 24 answers" in answers.output
    helped = cli.invoke(app, ["export", "--help"])
    assert "--aggregate" in helped.output


def test_cli_aggregate_refusals(built: Store, cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "none.csv"
    result = cli.invoke(app, ["export", "nope", "--aggregate", "--out", str(out)])
    assert result.exit_code != 0 and "no project named 'nope'" in result.output
    assert not out.exists()


def test_a_multi_label_choice_project_aggregates_label_sets(store: Store, tmp_path: Path) -> None:
    task = {"type": "choice", "fields": ["text"], "options": ["x", "y", "z"], "multiple": True}
    with store.unit_of_work() as session:
        make_project(session, name="tags", task=task)
        import_file(
            session,
            tmp_path,
            "tags",
            "t",
            [{"id": "t-1", "data": {"text": "a"}}, {"id": "t-2", "data": {"text": "b"}}],
        )
    # Nothing answered yet: still a table, with empty labels.
    result, _ = export_aggregate(store, "tags", "csv", tmp_path / "empty.csv")
    assert result.rows == 2
    with store.unit_of_work() as session:
        ann, bo, cy = (contractor(session, n) for n in ("ann", "bo", "cy"))
        give(session, ann, "tags", "t-1", {"labels": ["y", "x"]})
        give(session, bo, "tags", "t-1", {"labels": ["x", "y"]})
        give(session, cy, "tags", "t-1", {"labels": ["x"]})
    export_aggregate(store, "tags", "csv", tmp_path / "tags.csv")
    rows = {r["item_id"]: r for r in read_csv(tmp_path / "tags.csv")}
    assert rows["t-1"]["label"] == "x|y"  # a label set, in a stable order
    assert float(rows["t-1"]["agreement"]) == pytest.approx(2 / 6)
    assert rows["t-2"]["answers"] == "0"
