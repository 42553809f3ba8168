"""The quality report (hdops.services.quality) on the real store (SQLite, and
PostgreSQL with HDOPS_TEST_DATABASE_URL): small projects built by hand, with every
expected figure worked out here from what was built — alpha straight from the
`krippendorff` package on a reliability matrix written out below, gold records and
intervals from the answers given, counts from the rows added."""

from __future__ import annotations

import statistics
from pathlib import Path

import krippendorff
import numpy as np
import pytest

from hdops.domain.quality.intervals import wilson_interval
from hdops.errors import NotFound
from hdops.services.quality import project_quality, quality_report, rater_agreement
from hdops.store.db import Store
from hdops.store.orm import Project
from tests.helpers import contractor, make_project
from tests.quality_data import BATCH, V1, V2, build_pairs, build_ratings, give, import_file


def expected_alpha(answers: list[tuple[str, str, str, int]]) -> float:
    """Nominal alpha from the package itself, on a raters × items matrix."""
    raters = sorted({r for _, r, _, _ in answers})
    items = sorted({i for i, _, _, _ in answers})
    codes = {"a": 0, "b": 1, "tie": 2}
    matrix = np.full((len(raters), len(items)), np.nan)
    for item, rater, choice, _ in answers:
        matrix[raters.index(rater), items.index(item)] = codes[choice]
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))


def test_pairwise_project_quality(store: Store, tmp_path: Path) -> None:
    with store.unit_of_work() as session:
        build_pairs(session, tmp_path)
    with store.unit_of_work() as session:
        report = project_quality(session, "helpful-pairs")

    everything = V1 + V2
    assert report.method == "dawid-skene" and report.classes == ("a", "b", "tie")
    assert report.answers == len(everything) == 22
    assert report.items_answered == 8
    assert report.agreement.nominal == pytest.approx(expected_alpha(everything))
    assert report.agreement.items == 8 and report.agreement.answers == 22
    batches = {g.key: g.alpha for g in report.by_batch}
    assert set(batches) == {"b1", "b2"}
    assert batches["b1"].nominal == pytest.approx(
        expected_alpha([a for a in everything if a[0] in BATCH])
    )
    assert batches["b2"].nominal == pytest.approx(
        expected_alpha([a for a in everything if a[0] not in BATCH])
    )
    versions = {g.key: g.alpha for g in report.by_version}
    assert versions["1"].nominal == pytest.approx(expected_alpha(V1))
    assert versions["2"].nominal == pytest.approx(expected_alpha(V2))

    ann, bo, cy, dee = (report.rater(n) for n in ("ann", "bo", "cy", "dee"))
    assert ann is not None and bo is not None and cy is not None and dee is not None
    assert [r.name for r in report.raters] == ["ann", "bo", "cy", "dee"]  # most answers first
    assert (ann.answers, bo.answers, cy.answers, dee.answers) == (8, 7, 7, 0)
    assert (ann.gold.answered, ann.gold.correct) == (2, 2)
    assert (bo.gold.answered, bo.gold.correct) == (1, 0)
    assert (cy.gold.answered, cy.gold.correct) == (2, 1)  # g-1 judged now: right
    assert ann.gold.interval == wilson_interval(2, 2)
    assert cy.gold.accuracy == 0.5 and dee.gold.accuracy is None and dee.gold.interval is None
    # Leave-one-out by hand for bo: p-1 others a,b → ½; p-2 b,b → 1; p-3 a,a vs tie → 0;
    # g-1 a,a vs b → 0; p-4 1; p-5 (ann b) 1; p-6 1 → 4.5 / 7.
    assert bo.agreement == pytest.approx(4.5 / 7) and bo.agreement_answers == 7
    assert dee.agreement is None and dee.agreement_answers == 0
    for rater in (ann, bo, cy):
        assert rater.model_accuracy is not None and 0 <= rater.model_accuracy <= 1
        assert rater.confusion is not None and len(rater.confusion) == 3
        assert rater.offset is None
    assert ann.model_accuracy > bo.model_accuracy  # type: ignore[operator]
    secs = {n: [s for _, r, _, s in everything if r == n] for n in ("ann", "bo", "cy")}
    assert ann.median_seconds == statistics.median(secs["ann"])
    assert cy.median_seconds == statistics.median(secs["cy"])
    assert dee.median_seconds is None
    assert (dee.skips, dee.questions, dee.rejections) == (1, 1, 1)
    assert (cy.skips, cy.questions, cy.rejections) == (0, 1, 0)


def test_rating_project_and_the_overall_figures(store: Store, tmp_path: Path) -> None:
    with store.unit_of_work() as session:
        built = build_pairs(session, tmp_path)
        build_ratings(session, tmp_path, built.people)
    with store.unit_of_work() as session:
        report = quality_report(session)
        with pytest.raises(NotFound):
            project_quality(session, "nope")

    assert [p.name for p in report.projects] == ["helpful-pairs", "tone-rating"]
    rating = report.project("tone-rating")
    assert rating is not None and rating.method == "offsets" and rating.anchored
    assert rating.agreement.levels == ("interval", "ordinal")
    assert rating.agreement.interval is not None and rating.agreement.ordinal is not None
    assert rating.agreement.nominal is None
    ann, bo = rating.rater("ann"), rating.rater("bo")
    assert ann is not None and bo is not None
    assert ann.offset is not None and bo.offset is not None
    # Differences are exactly 3 on every item; gold 7 is rated 9 and 6: ann +2, bo -1.
    assert ann.offset.value == pytest.approx(2.0) and bo.offset.value == pytest.approx(-1.0)
    assert ann.offset.interval is not None and ann.offset.ratings == 4
    assert ann.model_accuracy is None and ann.confusion is None
    # gold 7 with tolerance 0: neither was right
    assert (ann.gold.answered, ann.gold.correct) == (1, 0)

    overall = report.contractor("ann")
    assert overall is not None and overall.projects == 2
    assert overall.answers == 8 + 4
    assert (overall.gold.answered, overall.gold.correct) == (3, 2)
    assert overall.gold.interval == wilson_interval(2, 3)
    pairs_ann = report.project("helpful-pairs").rater("ann")  # type: ignore[union-attr]
    assert pairs_ann is not None and pairs_ann.agreement is not None
    assert ann.agreement is not None
    assert overall.agreement == pytest.approx(
        (pairs_ann.agreement * pairs_ann.agreement_answers + ann.agreement * 4)
        / (pairs_ann.agreement_answers + 4)
    )
    assert overall.model_accuracy == pytest.approx(pairs_ann.model_accuracy)
    ann_seconds = [s for _, r, _, s in V1 + V2 if r == "ann"] + [10] * 4
    assert overall.median_seconds == statistics.median(ann_seconds)
    dee = report.contractor("dee")
    assert dee is not None and (dee.answers, dee.rejections, dee.skips, dee.questions) == (
        0,
        1,
        1,
        1,
    )
    assert [r.name for r in report.overall][:1] == ["ann"]


def test_a_project_with_nothing_answered(store: Store) -> None:
    with store.unit_of_work() as session:
        make_project(session)
        assert session.query(Project).count() == 1
    with store.unit_of_work() as session:
        report = project_quality(session, "helpful-pairs")
    assert report.answers == 0 and report.items_answered == 0
    assert report.agreement.nominal is None and report.raters == ()
    assert report.by_batch == () and report.by_version == ()


def test_text_projects_report_people_but_no_agreement(store: Store, tmp_path: Path) -> None:
    with store.unit_of_work() as session:
        make_project(
            session, name="essays", task={"type": "text", "fields": ["prompt"], "min_chars": 1}
        )
        import_file(session, tmp_path, "essays", "e", [{"id": "e-1", "data": {"prompt": "x"}}])
        ann = contractor(session, "ann")
        bo = contractor(session, "bo")
        give(session, ann, "essays", "e-1", {"text": "one"})
        give(session, bo, "essays", "e-1", {"text": "two"})
    with store.unit_of_work() as session:
        report = project_quality(session, "essays")
    assert report.method == "none" and report.agreement.primary is None
    assert [r.answers for r in report.raters] == [1, 1]
    assert all(r.agreement is None for r in report.raters)


def test_ratings_from_an_earlier_wider_scale_still_count(store: Store, tmp_path: Path) -> None:
    """A scale narrowed after answers came in: old ratings stay in the figures."""
    with store.unit_of_work() as session:
        build_ratings(session, tmp_path, {n: contractor(session, n) for n in ("ann", "bo")})
        give(session, contractor(session, "cy"), "tone-rating", "r-1", {"rating": 12})
    with store.unit_of_work() as session:
        report = project_quality(session, "tone-rating")
    assert report.answers == 9 and report.agreement.interval is not None


def test_one_raters_agreement_matches_the_project_report(store: Store, tmp_path: Path) -> None:
    """`/hdops me` reads one contractor's agreement from their own items only; it is
    the very figure the whole project's report gives them, for labels and ratings."""
    with store.unit_of_work() as session:
        built = build_pairs(session, tmp_path)
        build_ratings(session, tmp_path, built.people)
    with store.unit_of_work() as session:
        for name in ("helpful-pairs", "tone-rating"):
            report = project_quality(session, name)
            assert any(r.agreement is not None for r in report.raters)
            for rater in report.raters:
                alone = rater_agreement(session, name, rater.person_id)
                assert alone == pytest.approx(rater.agreement), (name, rater.name)
