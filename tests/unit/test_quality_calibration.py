"""Calibrated ratings (hdops.domain.quality.calibration and the rating side of
analysis): offsets recovered from simulated raters of known leniency, calibrated
means closer to the truth than raw ones, and hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hdops.domain.quality.analysis import analyse_ratings, rating_confidence
from hdops.domain.quality.calibration import fit_offsets

# How much higher than deserved each simulated rater rates (lenient +, severe −).
OFFSETS = [2.0, -1.5, 0.0, 1.0, -0.5, 0.5, -2.0, 1.5]


def simulate(
    seed: int, *, n_items: int = 150, per_item: int = 3, noise: float = 0.7
) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """Items with true values in 3..8; each gets `per_item` raters drawn at random,
    who rate true value + their offset + noise (not rounded, not clipped)."""
    rng = np.random.default_rng(seed)
    truth = rng.uniform(3, 8, n_items)
    ratings = []
    for item in range(n_items):
        for rater in rng.choice(len(OFFSETS), per_item, replace=False):
            value = truth[item] + OFFSETS[rater] + rng.normal(0, noise)
            ratings.append((item, int(rater), float(value)))
    return truth, ratings


def _means(ratings: list[tuple[int, int, float]], shift: dict[int, float], n: int) -> np.ndarray:
    sums, counts = np.zeros(n), np.zeros(n)
    for item, rater, value in ratings:
        sums[item] += value - shift.get(rater, 0.0)
        counts[item] += 1
    means: np.ndarray = sums / counts
    return means


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_calibrated_means_are_closer_to_the_truth_than_raw_means(seed: int) -> None:
    truth, ratings = simulate(seed)
    gold = {i: float(truth[i]) for i in range(15)}  # one item in ten is gold
    model = fit_offsets(ratings, gold)
    assert model.anchored
    offsets = {r: model.offset(r) for r in range(len(OFFSETS))}
    raw = _means(ratings, {}, len(truth))
    calibrated = _means(ratings, offsets, len(truth))
    raw_error = math.sqrt(float(np.mean((raw - truth) ** 2)))
    calibrated_error = math.sqrt(float(np.mean((calibrated - truth) ** 2)))
    assert calibrated_error < 0.6 * raw_error, (calibrated_error, raw_error)
    # Gold anchors the scale: the offsets themselves come back, not just their differences.
    for rater, true_offset in enumerate(OFFSETS):
        assert offsets[rater] == pytest.approx(true_offset, abs=0.35)
    assert model.residual_sd == pytest.approx(0.7, abs=0.1)


def test_offset_intervals_cover_the_true_offsets_about_95_times_in_100() -> None:
    covered = total = 0
    for seed in range(30):
        truth, ratings = simulate(100 + seed, n_items=80)
        model = fit_offsets(ratings, {i: float(truth[i]) for i in range(8)})
        for rater, true_offset in enumerate(OFFSETS):
            interval = model.offsets[rater].interval
            assert interval is not None
            covered += true_offset in interval
            total += 1
    assert 0.88 <= covered / total <= 0.99


def test_without_gold_offsets_are_relative_and_sum_to_zero() -> None:
    _, ratings = simulate(4)
    model = fit_offsets(ratings)
    assert not model.anchored
    values = np.array([model.offset(r) for r in range(len(OFFSETS))])
    assert values.sum() == pytest.approx(0.0, abs=1e-9)
    centred = np.array(OFFSETS) - np.mean(OFFSETS)
    assert np.abs(values - centred).max() < 0.35


def test_two_raters_one_always_a_point_higher_by_hand() -> None:
    ratings = [(item, "low", v) for item, v in enumerate([3.0, 5.0, 7.0])] + [
        (item, "high", v + 1) for item, v in enumerate([3.0, 5.0, 7.0])
    ]
    relative = fit_offsets(ratings)
    assert relative.offset("low") == pytest.approx(-0.5)
    assert relative.offset("high") == pytest.approx(0.5)
    assert relative.residual_sd == pytest.approx(0.0, abs=1e-12)
    anchored = fit_offsets([*ratings, (9, "low", 4.0)], gold={9: 4.0})
    assert anchored.offset("low") == pytest.approx(0.0, abs=1e-12)
    assert anchored.offset("high") == pytest.approx(1.0)
    assert anchored.calibrated("high", 8.0) == pytest.approx(7.0)


def test_a_rater_who_shares_nothing_has_no_interval() -> None:
    ratings = [(1, "a", 5.0), (1, "b", 6.0), (2, "a", 4.0), (2, "b", 6.0), (3, "loner", 9.0)]
    model = fit_offsets(ratings)
    loner = model.offsets["loner"]
    assert loner.value == 0.0 and loner.interval is None
    assert (loner.ratings, loner.compared) == (1, 0)
    assert model.offsets["a"].compared == 2
    assert model.offset("nobody") == 0.0


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(1, 10), min_size=2, max_size=12),
    st.integers(2, 5),
)
def test_raters_who_agree_exactly_have_no_offset(values: list[float], raters: int) -> None:
    ratings = [(i, r, v) for i, v in enumerate(values) for r in range(raters)]
    model = fit_offsets(ratings)
    for r in range(raters):
        assert model.offset(r) == pytest.approx(0.0, abs=1e-9)


def test_rating_confidence_by_hand() -> None:
    # mean 7, 4 answers, sd 1: se 0.5, P(6.5 < x < 7.5) = Φ(1) − Φ(−1) = 0.6827
    label, confidence = rating_confidence(7.0, 4, 1.0, 1, 10)
    assert label == 7 and confidence == pytest.approx(0.682689, abs=1e-6)
    # beyond the top of the scale: the top point, whose bin is open upwards
    label, confidence = rating_confidence(10.8, 4, 1.0, 1, 10)
    assert label == 10 and confidence == pytest.approx(0.5 * (1 + math.erf(2.6 / math.sqrt(2))))
    assert rating_confidence(6.5, 3, None, 1, 10) == (7, None)
    assert rating_confidence(6.2, 3, 0.0, 1, 10) == (6, 1.0)


def test_analyse_ratings_gives_raw_and_calibrated_side_by_side() -> None:
    votes = [
        ("i1", "kind", 8),
        ("i1", "harsh", 5),
        ("i2", "kind", 9),
        ("i2", "harsh", 6),
        ("i3", "kind", 7),
        ("i3", "harsh", 4),
        ("g", "kind", 9),
    ]
    result = analyse_ratings(votes, 1, 10, gold={"g": 7.0})
    assert result.method == "offsets" and result.anchored
    kind, harsh = result.raters["kind"].offset, result.raters["harsh"].offset
    assert kind is not None and harsh is not None
    assert kind.value == pytest.approx(2.0) and harsh.value == pytest.approx(-1.0)
    i1 = result.items["i1"]
    assert (i1.raw_mean, i1.raw_median) == (6.5, 6.5)
    assert i1.calibrated_mean == pytest.approx(6.0) and i1.calibrated_median == pytest.approx(6.0)
    assert i1.label == "6" and i1.answers == 2
    assert i1.agreement == pytest.approx(1 - 3 / 9)
    assert result.items["g"].agreement is None
    agreement = result.raters["harsh"].agreement
    assert agreement is not None and agreement.compared == 3
    with pytest.raises(ValueError):
        analyse_ratings(votes, 5, 5)
