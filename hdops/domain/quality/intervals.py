"""Confidence intervals for proportions, such as a contractor's gold accuracy.

The Wilson score interval (Wilson 1927) rather than the textbook normal ("Wald")
interval: with the handful of gold items a contractor answers, the Wald interval
collapses to a point at 0/n and n/n and can leave [0, 1]; Wilson's does neither and
keeps close to its nominal coverage for small n (Newcombe 1998, method 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054  # the standard normal's 97.5th percentile: a two-sided 95 % interval


@dataclass(frozen=True, slots=True)
class Interval:
    """A closed interval [low, high], e.g. a 95 % confidence interval."""

    low: float
    high: float

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> Interval | None:
    """The Wilson score interval for `successes` out of `trials` (None for no trials)."""
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes}/{trials}")
    if trials == 0:
        return None
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    margin = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    # At 0/n and n/n the bound is exactly 0 or 1 (float rounding would miss it either way).
    low = 0.0 if successes == 0 else max(0.0, centre - margin)
    high = 1.0 if successes == trials else min(1.0, centre + margin)
    return Interval(low, high)
