"""The spread of work (hdops.domain.distribution): Gini and top-20 % share on
hand-computed cases and as properties, and the dispatcher's even-share rule."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hdops.domain.distribution import (
    MOST_KEPT,
    catch_up_need,
    gini,
    gini_fraction,
    hold_back,
    kept_back,
    spread,
    top_group_size,
)

counts = st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=40)
some_answers = counts.filter(lambda c: sum(c) > 0)


# --------------------------------------------------------------------------- by hand


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # Σ|xi − xj| over ordered pairs / (2 · n · Σx)
        ([5, 5, 5, 5], Fraction(0)),  # all equal
        ([0, 0, 0, 10], Fraction(3, 4)),  # one gave all: (n − 1)/n = 3/4
        ([10, 0], Fraction(1, 2)),  # 2·10 / (2·2·10)
        ([1, 2, 3, 4], Fraction(1, 4)),  # 2·(1+2+3+1+2+1) = 20; 2·4·10 = 80
        ([10, 20, 30], Fraction(2, 9)),  # 2·(10+20+10) = 80; 2·3·60 = 360
        ([3, 1], Fraction(1, 4)),  # 2·2 / (2·2·4)
        ([7], Fraction(0)),  # one person: nothing to compare
        ([0, 0, 0], Fraction(0)),  # no answers: nothing unevenly spread
        ([], Fraction(0)),
    ],
)
def test_gini_on_hand_computed_cases(answers: list[int], expected: Fraction) -> None:
    assert gini_fraction(answers) == expected
    assert gini(answers) == float(expected)


def test_gini_of_the_issues_demo_day() -> None:
    """The seed-3 day of issue 14 (before the even-share rule): 234 answers from 8."""
    day = [53, 44, 40, 29, 23, 23, 22, 0]
    # Sorted ascending 0,22,23,23,29,40,44,53 with weights 2i − 9 = −7, −5, …, 7:
    # −7·0 − 5·22 − 3·23 − 1·23 + 1·29 + 3·40 + 5·44 + 7·53 = 538; 8 · 234 = 1872.
    assert gini_fraction(day) == Fraction(538, 1872)
    s = spread(day)
    assert (s.people, s.answers, s.top_count, s.top_answers) == (8, 234, 2, 97)
    assert s.top_share == pytest.approx(0.4145, abs=1e-4)  # "the top 20% gave 40%"
    assert s.even_top_share == 0.25


@pytest.mark.parametrize(
    ("people", "top"),
    [(0, 0), (1, 1), (4, 1), (5, 1), (6, 2), (8, 2), (10, 2), (11, 3), (35, 7), (36, 8)],
)
def test_top_group_is_the_ceiling_of_a_fifth(people: int, top: int) -> None:
    assert top_group_size(people) == top


@pytest.mark.parametrize(
    ("answers", "top_count", "top_answers", "share"),
    [
        ([10, 5, 3, 2], 1, 10, 0.5),  # 4 people: the top 20% is one person
        ([3, 3, 3, 3, 3, 3], 2, 6, 1 / 3),  # 6 equal: 2 of 6, so 1/3 even when even
        ([1, 9, 0, 5, 5, 0, 0, 0], 2, 14, 0.7),  # order does not matter
        ([0, 0], 1, 0, 0.0),  # nobody answered: share 0
    ],
)
def test_top_share_on_hand_computed_cases(
    answers: list[int], top_count: int, top_answers: int, share: float
) -> None:
    s = spread(answers)
    assert (s.top_count, s.top_answers) == (top_count, top_answers)
    assert s.top_share == pytest.approx(share)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        gini([3, -1])


# --------------------------------------------------------------------------- properties


@given(some_answers)
def test_gini_lies_in_zero_to_one(answers: list[int]) -> None:
    g = gini_fraction(answers)
    n = len(answers)
    assert 0 <= g <= Fraction(n - 1, n) < 1


@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=1, max_value=40))
def test_gini_is_zero_for_equal_counts(each: int, people: int) -> None:
    assert gini_fraction([each] * people) == 0


@given(some_answers)
def test_gini_is_zero_only_for_equal_counts(answers: list[int]) -> None:
    assert (gini_fraction(answers) == 0) == (len(set(answers)) == 1)


@given(some_answers, st.randoms(use_true_random=False))
def test_gini_and_top_share_ignore_order(answers: list[int], rnd: object) -> None:
    shuffled = list(answers)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert gini_fraction(shuffled) == gini_fraction(answers)
    assert spread(shuffled) == spread(answers)


@given(some_answers, st.integers(min_value=1, max_value=50))
def test_gini_and_top_share_ignore_scale(answers: list[int], k: int) -> None:
    scaled = [k * x for x in answers]
    assert gini_fraction(scaled) == gini_fraction(answers)
    assert spread(scaled).top_share == pytest.approx(spread(answers).top_share)


@given(some_answers)
def test_top_share_is_at_least_its_even_floor(answers: list[int]) -> None:
    s = spread(answers)
    assert s.top_count == math.ceil(len(answers) / 5)
    # The top group gives at least its head count's share, so never under 20 %.
    assert 0.2 <= s.even_top_share <= s.top_share + 1e-12 <= 1 + 1e-12
    if len(set(answers)) == 1:
        assert s.top_share == pytest.approx(s.even_top_share)  # an even spread sits on it


@given(some_answers, st.data())
def test_a_transfer_to_someone_behind_lowers_gini(answers: list[int], data: st.DataObject) -> None:
    """Pigou–Dalton: one answer moved from someone ahead to someone at least two
    behind them makes the spread strictly more even."""
    rich = answers.index(max(answers))
    poorer = [i for i, x in enumerate(answers) if x <= answers[rich] - 2]
    if not poorer:
        return
    poor = data.draw(st.sampled_from(poorer))
    moved = list(answers)
    moved[rich] -= 1
    moved[poor] += 1
    assert gini_fraction(moved) < gini_fraction(answers)


# --------------------------------------------------------------------------- even share


def test_catch_up_need_by_hand() -> None:
    assert catch_up_need(10, [4, 7, 12]) == 6 + 3 + 0
    assert catch_up_need(3, []) == 0
    assert kept_back(10, [4, 7, 12]) == 9
    assert kept_back(1000, [0]) == MOST_KEPT


@pytest.mark.parametrize(
    ("mine", "others", "open_slots", "held"),
    [
        (10, [4, 7], 9, True),  # 9 left: exactly what the others need to draw level
        (10, [4, 7], 10, False),  # one more than they need: plenty for everyone
        (10, [10, 12], 1, False),  # nobody behind: nothing kept
        (10, [], 0, False),  # alone: never held back
        (5, [4], 1, True),  # the last task goes to the one behind
        (400, [0], MOST_KEPT, True),
        (400, [0], MOST_KEPT + 1, False),  # at most MOST_KEPT kept back
    ],
)
def test_hold_back_by_hand(mine: int, others: list[int], open_slots: int, held: bool) -> None:
    assert hold_back(mine, others, open_slots) is held


@given(
    st.integers(min_value=0, max_value=300),
    st.lists(st.integers(min_value=0, max_value=300), max_size=10),
    st.integers(min_value=0, max_value=400),
)
def test_hold_back_properties(mine: int, others: list[int], open_slots: int) -> None:
    held = hold_back(mine, others, open_slots)
    if all(theirs >= mine for theirs in others):
        assert not held  # nobody is behind
    if open_slots > MOST_KEPT:
        assert not held  # plenty of work: everyone at their own pace
    if held:
        assert hold_back(mine, others, max(0, open_slots - 1))  # less work: still held
        assert hold_back(mine + 1, others, open_slots)  # further ahead: still held
