"""Agreement (hdops.domain.quality.agreement) and the Wilson interval, against
published values and hand-computed cases, plus the invariants alpha must keep."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hdops.domain.quality.agreement import (
    ConsensusAgreement,
    interval_agreement,
    krippendorff_alpha,
    nominal_agreement,
)
from hdops.domain.quality.analysis import alpha_figures
from hdops.domain.quality.intervals import Interval, wilson_interval

N = None
# K. Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), Annenberg School
# for Communication, Departmental Papers 43, section C: "Nominal data, any number of
# observers, missing data" — 4 observers (rows) rate 12 units (columns) on 1..5, with
# values missing. The paper gives alpha = 0.743 (nominal), 0.815 (ordinal),
# 0.849 (interval) and 0.797 (ratio) for these data.
KRIPPENDORFF_2011_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]
# Same paper, section A: "Binary or dichotomous data, two observers, no missing data",
# ten units; alpha = 0.095.
KRIPPENDORFF_2011_A = [
    [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
    [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
]


def _units(matrix: list[list[int | None]]) -> list[list[int]]:
    columns = zip(*matrix, strict=True)
    return [[v for v in column if v is not None] for column in columns]


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_alpha_on_krippendorffs_own_example(level: str, published: float) -> None:
    alpha = krippendorff_alpha(_units(KRIPPENDORFF_2011_C), level, [1, 2, 3, 4, 5])  # type: ignore[arg-type]
    assert alpha is not None and round(alpha, 3) == published


def test_alpha_on_krippendorffs_binary_example() -> None:
    assert round(krippendorff_alpha(_units(KRIPPENDORFF_2011_A), "nominal", [0, 1]) or 0, 3) == (
        0.095
    )


def test_alpha_figures_from_answers_match_the_published_example() -> None:
    votes = [
        (unit, rater, value)
        for rater, row in enumerate(KRIPPENDORFF_2011_C)
        for unit, value in enumerate(row)
        if value is not None
    ]
    figures = alpha_figures(votes, ("interval", "ordinal"), [1, 2, 3, 4, 5])
    assert figures.items == 11  # unit 12 has a single value: not pairable
    assert figures.answers == 40
    assert figures.interval is not None and round(figures.interval, 3) == 0.849
    assert figures.ordinal is not None and round(figures.ordinal, 3) == 0.815
    assert figures.nominal is None and figures.primary == figures.interval
    nominal = alpha_figures([(u, r, str(v)) for u, r, v in votes], ("nominal",), "12345")
    assert nominal.primary is not None and round(nominal.primary, 3) == 0.743


def test_alpha_is_undefined_without_pairs_or_without_variation() -> None:
    assert krippendorff_alpha([["a"], ["b"]], "nominal", ["a", "b"]) is None
    assert krippendorff_alpha([], "nominal", ["a", "b"]) is None
    assert krippendorff_alpha([["a", "a"], ["a", "a"]], "nominal", ["a", "b"]) is None
    assert krippendorff_alpha([[3, 3], [3, 3, 3]], "interval", [1, 2, 3, 4, 5]) is None


def test_alpha_refuses_values_outside_the_domain() -> None:
    with pytest.raises(ValueError, match="not in the domain"):
        krippendorff_alpha([["a", "c"]], "nominal", ["a", "b"])
    with pytest.raises(ValueError, match="twice"):
        krippendorff_alpha([["a", "b"]], "nominal", ["a", "a"])


def test_systematic_disagreement_gives_alpha_below_zero() -> None:
    units = [["a", "b"], ["b", "a"], ["a", "b"], ["b", "a"]]
    alpha = krippendorff_alpha(units, "nominal", ["a", "b"])
    assert alpha is not None and alpha < 0


LABELS = ["a", "b", "tie", "x", "y"]
units_strategy = st.lists(
    st.lists(st.sampled_from(LABELS), min_size=1, max_size=6), min_size=1, max_size=25
)


@given(
    st.lists(st.tuples(st.sampled_from(LABELS), st.integers(2, 6)), min_size=2, max_size=20).filter(
        lambda units: len({label for label, _ in units}) >= 2
    )
)
def test_perfect_agreement_gives_alpha_one(units: list[tuple[str, int]]) -> None:
    alpha = krippendorff_alpha([[label] * n for label, n in units], "nominal", LABELS)
    assert alpha == pytest.approx(1.0)


@given(
    st.lists(st.tuples(st.integers(1, 7), st.integers(2, 5)), min_size=2, max_size=20).filter(
        lambda units: len({v for v, _ in units}) >= 2
    ),
    st.sampled_from(["interval", "ordinal"]),
)
def test_perfect_agreement_gives_alpha_one_on_a_scale(
    units: list[tuple[int, int]], level: str
) -> None:
    alpha = krippendorff_alpha([[v] * n for v, n in units], level, list(range(1, 8)))  # type: ignore[arg-type]
    assert alpha == pytest.approx(1.0)


@given(units_strategy, st.permutations(LABELS), st.randoms(use_true_random=False))
def test_nominal_alpha_ignores_label_names_and_orders(
    units: list[list[str]], renamed: list[str], rnd: object
) -> None:
    import random

    assert isinstance(rnd, random.Random)
    rename = dict(zip(LABELS, renamed, strict=True))
    before = krippendorff_alpha(units, "nominal", LABELS)
    shuffled = [list(u) for u in units]
    rnd.shuffle(shuffled)
    for u in shuffled:
        rnd.shuffle(u)
    after = krippendorff_alpha([[rename[v] for v in u] for u in shuffled], "nominal", renamed)
    if before is None:
        assert after is None
    else:
        assert after == pytest.approx(before, abs=1e-12)
        assert -1.0 - 1e-9 <= before <= 1.0 + 1e-9


# --------------------------------------------------------------------------- per item


def test_item_agreement_by_hand() -> None:
    labels = nominal_agreement(
        [("one", "r1", "a")]
        + [("same", f"r{i}", "a") for i in range(3)]
        + [("two-one", "r1", "a"), ("two-one", "r2", "a"), ("two-one", "r3", "b")]
        + [("split", f"r{i}", label) for i, label in enumerate("aabb")]
    ).items
    assert labels["one"] is None
    assert labels["same"] == 1.0
    assert labels["two-one"] == pytest.approx(2 / 6)
    assert labels["split"] == pytest.approx(4 / 12)
    ratings = interval_agreement(
        [
            ("one", "r1", 5.0),
            ("ends", "r1", 1.0),
            ("ends", "r2", 10.0),
            ("steps", "r1", 2.0),
            ("steps", "r2", 3.0),
            ("steps", "r3", 4.0),
        ],
        9,
    ).items
    assert ratings["one"] is None
    assert ratings["ends"] == pytest.approx(0.0)  # |1-10| = 9 on a span of 9
    assert ratings["steps"] == pytest.approx(1 - (4 / 3) / 9)  # pairs 1, 2, 1
    with pytest.raises(ValueError):
        interval_agreement([], 0)


def test_leave_one_out_consensus_by_hand() -> None:
    answers = [
        ("i1", "ann", "a"), ("i1", "bo", "a"), ("i1", "cy", "b"),  # ann: others a,b → ½
        ("i2", "ann", "a"), ("i2", "bo", "a"), ("i2", "cy", "a"),  # everyone 1
        ("i3", "ann", "b"),  # alone: not compared
        ("i4", "dee", "a"),  # dee shares nothing: absent
    ]  # fmt: skip
    assert nominal_agreement(answers).raters == {
        "ann": ConsensusAgreement(0.75, 2),
        "bo": ConsensusAgreement(0.75, 2),
        "cy": ConsensusAgreement(0.5, 2),
    }
    scores = interval_agreement(
        [("i", "ann", 8.0), ("i", "bo", 6.0), ("i", "cy", 4.0)], 9
    ).raters  # ann against the others' mean 5: |3| / 9
    assert scores["ann"].value == pytest.approx(1 - 3 / 9)
    assert scores["bo"].value == pytest.approx(1.0)
    assert scores["cy"].value == pytest.approx(1 - 3 / 9)


def _reference_nominal(units: list[list[str]]) -> tuple[list[float | None], dict[str, float]]:
    """The definitions written out naively, one answer at a time."""
    per_item: list[float | None] = []
    credits: dict[str, list[float]] = {}
    for unit in units:
        n = len(unit)
        per_item.append(
            None if n < 2 else sum(c * (c - 1) for c in Counter(unit).values()) / (n * (n - 1))
        )
        if n < 2:
            continue
        for i, label in enumerate(unit):
            others = Counter(unit[:i] + unit[i + 1 :])
            top = max(others.values())
            modes = [lab for lab, c in others.items() if c == top]
            credits.setdefault(f"r{i}", []).append(1 / len(modes) if label in modes else 0.0)
    return per_item, {r: sum(c) / len(c) for r, c in credits.items()}


@given(units_strategy)
def test_nominal_agreement_matches_its_definition(units: list[list[str]]) -> None:
    result = nominal_agreement(
        [(u, f"r{i}", label) for u, unit in enumerate(units) for i, label in enumerate(unit)]
    )
    per_item, per_rater = _reference_nominal(units)
    for u, expected in enumerate(per_item):
        assert result.items[u] == (None if expected is None else pytest.approx(expected))
    assert {r: a.value for r, a in result.raters.items()} == pytest.approx(per_rater)
    for score in result.raters.values():
        assert 0.0 <= score.value <= 1.0 and score.compared >= 1


@given(st.lists(st.lists(st.integers(1, 10), min_size=1, max_size=6), min_size=1, max_size=20))
def test_interval_agreement_matches_its_definition(units: list[list[int]]) -> None:
    answers = [(u, f"r{i}", float(v)) for u, unit in enumerate(units) for i, v in enumerate(unit)]
    result = interval_agreement(answers, 9)
    for u, unit in enumerate(units):
        n = len(unit)
        if n < 2:
            assert result.items[u] is None
            continue
        pairs = [abs(a - b) for i, a in enumerate(unit) for b in unit[i + 1 :]]
        expected = 1 - sum(pairs) / len(pairs) / 9
        assert result.items[u] == pytest.approx(expected)
        assert 0.0 <= expected <= 1.0


# --------------------------------------------------------------------------- Wilson


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # R. G. Newcombe, "Two-sided confidence intervals for the single proportion:
        # comparison of seven methods", Statistics in Medicine 17 (1998) 857-872,
        # Table I, method 3 (score interval without continuity correction).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # By hand: p = 0.8, n = 10, z = 1.96: centre 0.7167, half-width 0.2266.
        (8, 10, 0.4902, 0.9433),
    ],
)
def test_wilson_interval_published_values(
    successes: int, trials: int, low: float, high: float
) -> None:
    interval = wilson_interval(successes, trials)
    assert interval is not None
    assert (round(interval.low, 4), round(interval.high, 4)) == (low, high)


def test_wilson_interval_edges() -> None:
    assert wilson_interval(0, 0) is None
    full = wilson_interval(5, 5)
    assert full is not None and full.high == 1.0 and full.low < 1.0
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
    assert 0.5 in Interval(0.4, 0.6) and 0.7 not in Interval(0.4, 0.6)


@given(st.integers(1, 10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_contains_the_proportion(pair: tuple[int, int]) -> None:
    successes, trials = pair
    interval = wilson_interval(successes, trials)
    assert interval is not None
    assert 0.0 <= interval.low <= successes / trials <= interval.high <= 1.0
    assert not math.isnan(interval.low)
