"""The review queue's pure rules: "far faster than usual", flag reasons, and the
qualification bar over the whole gold record and over the latest gold answers."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hdops.domain.projects import Qualification
from hdops.domain.qualification import ROLLING_GOLD, gold_standing, window
from hdops.domain.review import (
    MIN_OWN_ANSWERS,
    MIN_PROJECT_ANSWERS,
    join_reasons,
    reasons_text,
    split_reasons,
    too_fast_among,
)

PROJECT = [60] * MIN_PROJECT_ANSWERS  # the project's typical time: 60 s
OWN = [60] * MIN_OWN_ANSWERS


def test_three_times_faster_than_both_typical_times_is_flagged() -> None:
    assert too_fast_among(20, OWN, PROJECT)  # 60 / 3: exactly three times faster
    assert too_fast_among(5, OWN, PROJECT)
    assert not too_fast_among(21, OWN, PROJECT)  # 2.9× faster is not far enough


def test_both_typical_times_must_be_beaten() -> None:
    quick_worker = [15] * MIN_OWN_ANSWERS  # their own typical time is 15 s
    assert not too_fast_among(12, quick_worker, PROJECT)  # usual for them
    assert too_fast_among(5, quick_worker, PROJECT)
    slow_project = [15] * MIN_PROJECT_ANSWERS
    assert not too_fast_among(12, OWN, slow_project)


def test_medians_count_only_from_enough_answers() -> None:
    assert not too_fast_among(1, OWN, PROJECT[:-1])  # 19 project answers: no typical time yet
    # Fewer than MIN_OWN_ANSWERS of their own: the project's time stands for theirs,
    # so a newcomer racing from the first task is flagged.
    assert too_fast_among(20, [1] * (MIN_OWN_ANSWERS - 1), PROJECT)
    assert not too_fast_among(20, [1] * MIN_OWN_ANSWERS, PROJECT)


def test_a_typical_time_of_zero_makes_nothing_faster() -> None:
    assert not too_fast_among(0, [0] * MIN_OWN_ANSWERS, [0] * MIN_PROJECT_ANSWERS)
    assert not too_fast_among(0, OWN, [0] * MIN_PROJECT_ANSWERS)


def test_the_median_is_the_typical_time() -> None:
    # Median 60 with a few very slow and very fast answers around it.
    project = [1] * 9 + [60, 60] + [3000] * 9
    assert too_fast_among(20, OWN, project)
    assert not too_fast_among(21, OWN, project)


def _oracle(seconds: int, own: list[int], project: list[int]) -> bool:
    """The rule as written: at most a third of both medians (median_high)."""

    def faster(latest: list[int], minimum: int) -> bool | None:
        if len(latest) < minimum:
            return None
        typical = statistics.median_high(latest)
        return typical > 0 and seconds * 3 <= typical

    if not faster(project, MIN_PROJECT_ANSWERS):
        return False
    mine = faster(own, MIN_OWN_ANSWERS)
    return True if mine is None else mine


@given(
    seconds=st.integers(0, 300),
    own=st.lists(st.integers(0, 1000), max_size=60),
    project=st.lists(st.integers(0, 1000), max_size=250),
)
def test_counting_the_slow_half_is_comparing_with_the_median(
    seconds: int, own: list[int], project: list[int]
) -> None:
    assert too_fast_among(seconds, own, project) == _oracle(seconds, own, project)


@given(
    seconds=st.integers(0, 10_000),
    faster=st.integers(0, 10_000),
    own=st.lists(st.integers(0, 10_000), max_size=60),
    project=st.lists(st.integers(0, 10_000), max_size=250),
)
def test_flagged_stays_flagged_for_any_faster_answer(
    seconds: int, faster: int, own: list[int], project: list[int]
) -> None:
    if too_fast_among(seconds, own, project):
        assert too_fast_among(min(seconds, faster), own, project)


def test_reasons_are_stored_in_one_order_and_read_back() -> None:
    assert join_reasons(["fast", "failed"]) == "failed,fast"
    assert split_reasons("fast,under_bar,failed") == ("failed", "under_bar", "fast")
    assert split_reasons(None) == ()
    assert reasons_text("fast") == "far faster than usual"
    with pytest.raises(ValueError):
        join_reasons(["slow"])


RULE = Qualification(min_gold_accuracy=0.8, min_gold_answered=5)


def _record(outcomes: list[bool]) -> tuple[int, int, list[bool]]:
    """(answered, correct, newest first) of gold outcomes given oldest first."""
    return len(outcomes), sum(outcomes), list(reversed(outcomes))


def test_screening_then_the_whole_record() -> None:
    assert gold_standing(RULE, *_record([False] * 4)).state == "screening"
    failed = gold_standing(RULE, *_record([True, True, True, False, False]))
    assert (failed.state, failed.answered, failed.correct, failed.recent) == (
        "failed",
        5,
        3,
        False,
    )
    assert gold_standing(RULE, *_record([True] * 4 + [False])).state == "ok"  # 80 %: at the bar


def test_a_recent_lapse_under_a_good_record_is_under_the_bar() -> None:
    assert window(RULE) == ROLLING_GOLD == 20
    # 10 right, then 15 of 20: 25/30 = 83 % over all, 75 % over the latest 20.
    lapse = [True] * 10 + ([True] * 3 + [False]) * 5
    standing = gold_standing(RULE, *_record(lapse))
    assert (standing.state, standing.answered, standing.correct, standing.recent) == (
        "failed",
        20,
        15,
        True,
    )
    # Back at the bar by right answers alone: 3 more leave 15 of the latest 20, the
    # 4th pushes a wrong one out of the window (16 of 20).
    assert gold_standing(RULE, *_record([*lapse, True, True, True])).state == "failed"
    assert gold_standing(RULE, *_record([*lapse, True, True, True, True])).state == "ok"


def test_the_latest_answers_count_only_once_the_record_is_longer_than_the_window() -> None:
    lapse = [True] * 10 + ([True] * 3 + [False]) * 5  # 83 % over all, 75 % lately
    answered, correct, newest_first = _record(lapse)
    assert gold_standing(RULE, answered, correct, newest_first).state == "failed"
    assert gold_standing(RULE, answered, correct).state == "ok"  # latest not read
    assert gold_standing(RULE, answered, correct, newest_first[:19]).state == "ok"
    # A record of exactly the window: the whole record is the window (75 %: failed,
    # and as a failure of the whole record, not a recent lapse).
    whole = gold_standing(RULE, *_record(lapse[10:]))
    assert (whole.state, whole.recent) == ("failed", False)


def test_the_window_is_at_least_the_screening_length() -> None:
    long_screening = Qualification(min_gold_accuracy=0.8, min_gold_answered=30)
    assert window(long_screening) == 30
