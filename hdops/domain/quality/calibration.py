"""Calibrated ratings: each rater's leniency or severity, estimated and taken out.

The model is additive: rating(item i, rater r) = μ_i + b_r + noise. μ_i is what
the item deserves, b_r how much higher (lenient, b > 0) or lower (severe, b < 0)
than that rater r rates; a calibrated rating is `rating − b_r`. It is fitted by
least squares on every accepted rating:

* the item effects are profiled out, which leaves one small linear system in the
  rater offsets alone (raters × raters, however many items): an item rated by
  raters S adds, for each pair in S, how their ratings differ — only items rated by
  two or more people say anything about offsets;
* gold items anchor the scale: their μ is the known gold rating, so a rater's
  answers on gold say directly how far off they are;
* raters linked through shared items form groups; a group that touched no gold
  item can only be placed relative to itself, so its offsets are fixed to sum to
  zero (its average rater is taken as unbiased). A rater who shares no item with
  anyone and answered no gold has no estimable offset: 0, without an interval.

Each offset comes with a confidence interval: ±z standard errors, from the
residual variance and the inverse of the offsets' normal matrix (a normal
approximation; with few ratings it is on the narrow side, which is why the
answers each estimate rests on are reported alongside). No interval is given
when the ratings leave no degrees of freedom for the noise.

Numbers are numpy; raters and items are any hashable keys.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from hdops.domain.quality.intervals import Z_95, Interval

I = TypeVar("I", bound=Hashable)  # noqa: E741  (item key)
R = TypeVar("R", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Offset:
    """One rater's offset: `value` (subtract it from their ratings), its interval
    (None when not estimable), and the ratings it rests on: `compared`, those on
    items that someone else rated too or that have gold."""

    value: float
    interval: Interval | None
    ratings: int
    compared: int


@dataclass(frozen=True)
class OffsetModel(Generic[R]):
    """Fitted offsets; `residual_sd` is the noise's estimated standard deviation."""

    offsets: Mapping[R, Offset]
    residual_sd: float | None
    anchored: bool  # some gold item anchored the scale

    def offset(self, rater: R) -> float:
        found = self.offsets.get(rater)
        return found.value if found is not None else 0.0

    def calibrated(self, rater: R, rating: float) -> float:
        return rating - self.offset(rater)


class _Groups:
    """Union-find over rater indexes: who is linked to whom through shared items."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        self.parent[self.find(i)] = self.find(j)


def fit_offsets(
    ratings: Sequence[tuple[I, R, float]],
    gold: Mapping[I, float] | None = None,
    *,
    z: float = Z_95,
) -> OffsetModel[R]:
    """Fit the additive offset model to `(item, rater, rating)` answers; `gold` maps
    items to their known rating."""
    gold = gold or {}
    raters: list[R] = []
    index: dict[R, int] = {}
    by_item: dict[I, list[tuple[int, float]]] = {}
    for item, rater, value in ratings:
        if rater not in index:
            index[rater] = len(raters)
            raters.append(rater)
        by_item.setdefault(item, []).append((index[rater], float(value)))
    n = len(raters)
    normal = np.zeros((n, n))  # the offsets' normal matrix, item effects profiled out
    rhs = np.zeros(n)
    groups = _Groups(n)
    compared = np.zeros(n, dtype=int)
    total = np.zeros(n, dtype=int)
    rated_gold = np.zeros(n, dtype=bool)
    free_items = 0  # items whose effect is estimated (not gold)
    for item, answers in by_item.items():
        who = np.array([r for r, _ in answers], dtype=np.intp)
        values = np.array([v for _, v in answers])
        np.add.at(total, who, 1)
        if item in gold:
            np.add.at(normal, (who, who), 1.0)
            np.add.at(rhs, who, values - gold[item])
            np.add.at(compared, who, 1)
            rated_gold[who] = True
            continue
        free_items += 1
        if len(answers) < 2:
            continue
        np.add.at(normal, (who, who), 1.0)
        np.subtract.at(normal, (who[:, None], who[None, :]), 1.0 / len(answers))
        np.add.at(rhs, who, values - values.mean())
        np.add.at(compared, who, 1)
        for other in who[1:]:
            groups.join(int(who[0]), int(other))

    anchored_roots = {groups.find(r) for r in range(n) if rated_gold[r]}
    members: dict[int, list[int]] = {}
    for r in range(n):
        members.setdefault(groups.find(r), []).append(r)

    offsets = np.zeros(n)
    covariance = np.zeros((n, n))
    estimable = np.zeros(n, dtype=bool)
    rank = 0
    for root, group in members.items():
        idx = np.array(group, dtype=np.intp)
        block = normal[np.ix_(idx, idx)]
        if root in anchored_roots:
            inverse = np.linalg.inv(block)
            rank += len(group)
        elif len(group) > 1:
            # Sum-to-zero: (L + J/m)^-1 - J/m is the pseudo-inverse of a connected
            # group's Laplacian-like matrix L, whose only null direction is all-ones.
            projector = np.full((len(group), len(group)), 1.0 / len(group))
            inverse = np.linalg.inv(block + projector) - projector
            rank += len(group) - 1
        else:
            continue  # alone and without gold: nothing to estimate
        offsets[idx] = inverse @ rhs[idx]
        covariance[np.ix_(idx, idx)] = inverse
        estimable[idx] = True

    rss = 0.0
    for item, answers in by_item.items():
        who = np.array([r for r, _ in answers], dtype=np.intp)
        adjusted = np.array([v for _, v in answers]) - offsets[who]
        effect = gold[item] if item in gold else adjusted.mean()
        rss += float(((adjusted - effect) ** 2).sum())
    dof = len(ratings) - free_items - rank
    sd = math.sqrt(rss / dof) if dof > 0 else None

    result: dict[R, Offset] = {}
    for r, rater in enumerate(raters):
        interval = None
        if estimable[r] and sd is not None:
            half = z * sd * math.sqrt(max(float(covariance[r, r]), 0.0))
            interval = Interval(float(offsets[r]) - half, float(offsets[r]) + half)
        result[rater] = Offset(float(offsets[r]), interval, int(total[r]), int(compared[r]))
    return OffsetModel(result, sd, bool(anchored_roots))
