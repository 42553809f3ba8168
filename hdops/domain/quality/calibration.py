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
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

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


K = TypeVar("K", bound=Hashable)


def _codes(keys: Iterable[K]) -> tuple[list[K], npt.NDArray[np.intp]]:
    index: dict[K, int] = {}
    codes = [index.setdefault(key, len(index)) for key in keys]
    return list(index), np.asarray(codes, dtype=np.intp)


def _groups(linked: npt.NDArray[np.bool_]) -> list[list[int]]:
    """Connected groups of raters, given which pairs share an item."""
    unseen = set(range(len(linked)))
    groups = []
    while unseen:
        start = min(unseen)
        group, frontier = {start}, [start]
        while frontier:
            found = {int(j) for j in np.flatnonzero(linked[frontier].any(axis=0))} - group
            group |= found
            frontier = list(found)
        unseen -= group
        groups.append(sorted(group))
    return groups


def fit_offsets(
    ratings: Sequence[tuple[I, R, float]],
    gold: Mapping[I, float] | None = None,
    *,
    z: float = Z_95,
) -> OffsetModel[R]:
    """Fit the additive offset model to `(item, rater, rating)` answers; `gold` maps
    items to their known rating."""
    gold = gold or {}
    items, item = _codes(r[0] for r in ratings)
    raters, rater = _codes(r[1] for r in ratings)
    value = np.asarray([r[2] for r in ratings], dtype=float)
    n_items, n = len(items), len(raters)
    is_gold = np.array([i in gold for i in items], dtype=bool)
    gold_value = np.array([gold.get(i, 0.0) for i in items], dtype=float)
    per_item = np.bincount(item, minlength=n_items)
    on_gold = is_gold[item]
    shared = ~on_gold & (per_item[item] >= 2)  # on a free item someone else rated too
    used = on_gold | shared
    total = np.bincount(rater, minlength=n)
    compared = np.bincount(rater[used], minlength=n)
    rated_gold = np.bincount(rater[on_gold], minlength=n) > 0
    free_items = int(np.count_nonzero(~is_gold))  # items whose effect is estimated

    # The offsets' normal matrix with the item effects profiled out: every used answer
    # adds 1 on its rater's diagonal; a free item rated by S takes 1/|S| off every
    # (r, r') cell for r, r' in S (its mean is estimated from those same ratings).
    normal = np.diag(compared.astype(float))
    item_mean = np.bincount(item, weights=value, minlength=n_items) / np.maximum(per_item, 1)
    rhs = np.bincount(
        rater[on_gold], weights=value[on_gold] - gold_value[item[on_gold]], minlength=n
    ) + np.bincount(rater[shared], weights=value[shared] - item_mean[item[shared]], minlength=n)
    order = np.flatnonzero(shared)
    order = order[np.argsort(item[order], kind="stable")]
    by_item, by_rater = item[order], rater[order]
    share = 1.0 / per_item[by_item]
    cells = np.zeros(n * n)
    for k in range(int(per_item.max(initial=0))):  # pair each answer with the one k later
        same = by_item[k:] == by_item[: len(by_item) - k]
        first, second = by_rater[: len(by_item) - k][same], by_rater[k:][same]
        weight = share[k:][same]
        cells += np.bincount(first * n + second, weights=weight, minlength=n * n)
        if k:
            cells += np.bincount(second * n + first, weights=weight, minlength=n * n)
    normal -= cells.reshape(n, n)
    linked = cells.reshape(n, n) > 0

    offsets = np.zeros(n)
    covariance = np.zeros((n, n))
    estimable = np.zeros(n, dtype=bool)
    rank = 0
    for group in _groups(linked):
        idx = np.array(group, dtype=np.intp)
        block = normal[np.ix_(idx, idx)]
        if rated_gold[idx].any():
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

    adjusted = value - offsets[rater]
    effect = np.where(
        is_gold,
        gold_value,
        np.bincount(item, weights=adjusted, minlength=n_items) / np.maximum(per_item, 1),
    )
    rss = float(((adjusted - effect[item]) ** 2).sum())
    dof = len(ratings) - free_items - rank
    sd = math.sqrt(rss / dof) if dof > 0 else None

    result: dict[R, Offset] = {}
    for r, rater_key in enumerate(raters):
        interval = None
        if estimable[r] and sd is not None:
            half = z * sd * math.sqrt(max(float(covariance[r, r]), 0.0))
            interval = Interval(float(offsets[r]) - half, float(offsets[r]) + half)
        result[rater_key] = Offset(float(offsets[r]), interval, int(total[r]), int(compared[r]))
    return OffsetModel(result, sd, bool(rated_gold.any()))
