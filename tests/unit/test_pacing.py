"""The pacer never lets more calls through than a limit allows, and never makes a
call wait that the limit would let go."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hdops.pacing import Pacer, Rate


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


rates = st.builds(
    Rate,
    per_second=st.floats(min_value=0.1, max_value=50),
    burst=st.integers(min_value=1, max_value=8),
)
gaps = st.lists(st.floats(min_value=0, max_value=3), min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(rate=rates, arrivals=gaps)
def test_calls_never_exceed_the_rate_over_any_window(rate: Rate, arrivals: list[float]) -> None:
    clock = Clock()
    pacer = Pacer(clock)
    starts: list[float] = []
    for gap in arrivals:
        clock.t += gap
        starts.append(clock.t + pacer.reserve([("k", rate)]))
    assert starts == sorted(starts)  # calls go in the order they asked
    eps = 1e-6
    for i in range(len(starts)):
        for j in range(i, len(starts)):
            # j - i + 1 calls in [starts[i], starts[j]]: at most burst + window * rate
            assert j - i + 1 <= rate.burst + (starts[j] - starts[i]) * rate.per_second + eps


@settings(max_examples=200, deadline=None)
@given(rate=rates, arrivals=gaps)
def test_a_call_waits_only_when_the_limit_demands_it(rate: Rate, arrivals: list[float]) -> None:
    clock = Clock()
    pacer = Pacer(clock)
    starts: list[float] = []
    for gap in arrivals:
        clock.t += gap
        wait = pacer.reserve([("k", rate)])
        if wait > 0:
            # Going earlier would break the limit: `burst` calls already sit in the
            # last `burst` intervals before the start it was given.
            recent = [s for s in starts if s > clock.t + wait - rate.burst * rate.interval - 1e-9]
            assert len(recent) >= rate.burst
        starts.append(clock.t + wait)


def test_a_burst_goes_at_once_then_one_per_interval() -> None:
    clock = Clock()
    pacer = Pacer(clock)
    waits = [pacer.reserve([("c", Rate(1.0, 3))]) for _ in range(5)]
    assert waits == [0, 0, 0, 1.0, 2.0]


def test_the_slowest_of_several_limits_decides_and_all_are_charged() -> None:
    clock = Clock()
    pacer = Pacer(clock)
    channel, method = ("post:C1", Rate(1.0, 1)), ("chat.update", Rate(10.0, 1))
    assert pacer.reserve([channel, method]) == 0
    assert pacer.reserve([channel, method]) == pytest.approx(1.0)
    assert pacer.reserve([method]) == pytest.approx(1.1)  # method was booked at t+1 too


def test_a_platform_retry_after_holds_every_key() -> None:
    clock = Clock()
    pacer = Pacer(clock)
    pacer.hold(["a", "b"], 4.0)
    assert pacer.wait([("a", Rate(100.0, 10))]) == pytest.approx(4.0)
    assert pacer.wait([("b", Rate(100.0, 10))]) == pytest.approx(4.0)
    clock.t += 4.0
    assert pacer.wait([("a", Rate(100.0, 10))]) == 0


def test_rates_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Rate(0, 1)
    with pytest.raises(ValueError):
        Rate(1, 0)
