"""How far raters agree: Krippendorff's alpha, per-item agreement, and each rater's
agreement with the leave-one-out consensus.

Alpha comes from the `krippendorff` package (numpy only), not a formula of our own;
we only turn answers into the value-counts table it takes and say when alpha is
undefined: with no item that has two answers, or with a single value in all the
pairable answers (no variation: the expected disagreement is zero and alpha is 0/0),
it is None rather than a number that means nothing.

Levels of measurement: nominal for pairwise and choice answers (a label is a
category), interval and ordinal for ratings (a 7 is closer to an 8 than to a 2;
interval treats scale steps as equal, ordinal only their order).

Per-item agreement and leave-one-out agreement are plain observed figures:

* nominal: the share of pairs of answers on the item that agree; a rater's
  consensus agreement is how often their label is the majority of the *other*
  answers on the item (a tie among the others' top labels counts 1/k for each of
  the k tied labels: a fair coin toss between them);
* interval (ratings): 1 − mean |difference| / span of the scale, for pairs on the
  item and for a rating against the mean of the others' ratings respectively; 1 is
  perfect agreement, 0 the opposite ends of the scale.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

import krippendorff
import numpy as np
import numpy.typing as npt

Level = Literal["nominal", "ordinal", "interval"]
NOMINAL: Level = "nominal"

I = TypeVar("I", bound=Hashable)  # noqa: E741  (item key)
R = TypeVar("R", bound=Hashable)
V = TypeVar("V", bound=Hashable)
IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]


def krippendorff_alpha(
    units: Iterable[Sequence[V]], level: Level, domain: Sequence[V]
) -> float | None:
    """Krippendorff's alpha of `units` (the values given to each unit, one per rater).

    `domain` lists every value a rater may give, in order for interval/ordinal data
    (the scale's points), any order for nominal data. None when alpha is undefined."""
    index = {value: i for i, value in enumerate(domain)}
    if len(index) != len(domain):
        raise ValueError("the value domain lists a value twice")
    rows: list[list[int]] = []
    seen: set[int] = set()
    for values in units:
        if len(values) < 2:
            continue  # a unit with one value has nobody to agree with
        counts = [0] * len(domain)
        for value in values:
            if value not in index:
                raise ValueError(f"value {value!r} is not in the domain")
            counts[index[value]] += 1
            seen.add(index[value])
        rows.append(counts)
    if not rows or len(seen) < 2:
        return None
    if level == NOMINAL:
        numeric_domain: list[float] = [float(i) for i in range(len(domain))]
    else:
        numeric_domain = [float(value) for value in domain]  # type: ignore[arg-type]
    alpha = float(
        krippendorff.alpha(
            value_counts=np.array(rows, dtype=float),
            value_domain=numeric_domain,
            level_of_measurement=level,
        )
    )
    return None if math.isnan(alpha) else alpha


@dataclass(frozen=True, slots=True)
class ConsensusAgreement:
    """A rater's agreement with the others: `value` in [0, 1] over `compared` answers
    (their answers on items someone else answered too)."""

    value: float
    compared: int


@dataclass(frozen=True)
class Agreements(Generic[I, R]):
    """Per item: its agreement (None with fewer than two answers); per rater: their
    agreement with the leave-one-out consensus (absent if they share no item)."""

    items: Mapping[I, float | None]
    raters: Mapping[R, ConsensusAgreement]


K = TypeVar("K", bound=Hashable)


def _codes(keys: Iterable[K]) -> tuple[list[K], IntArray]:
    index: dict[K, int] = {}
    codes = [index.setdefault(key, len(index)) for key in keys]
    return list(index), np.asarray(codes, dtype=np.intp)


def _result(
    items: list[I],
    raters: list[R],
    item_values: FloatArray,
    answer_raters: IntArray,
    credit: FloatArray,
    compared: npt.NDArray[np.bool_],
) -> Agreements[I, R]:
    n = len(raters)
    sums = np.bincount(answer_raters[compared], weights=credit[compared], minlength=n)
    counts = np.bincount(answer_raters[compared], minlength=n)
    return Agreements(
        {
            item: (None if np.isnan(v) else float(v))
            for item, v in zip(items, item_values, strict=True)
        },
        {
            rater: ConsensusAgreement(float(sums[r] / counts[r]), int(counts[r]))
            for r, rater in enumerate(raters)
            if counts[r]
        },
    )


def nominal_agreement(answers: Sequence[tuple[I, R, Hashable]]) -> Agreements[I, R]:
    """Agreement of categorical `(item, rater, label)` answers (module docstring)."""
    items, item = _codes(a[0] for a in answers)
    raters, rater = _codes(a[1] for a in answers)
    labels, label = _codes(a[2] for a in answers)
    n_items, n_labels = len(items), len(labels)
    counts = np.bincount(item * n_labels + label, minlength=n_items * n_labels).reshape(
        n_items, n_labels
    )
    n = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        item_values = (counts * (counts - 1)).sum(axis=1) / (n * (n - 1))
    item_values[n < 2] = np.nan
    # Leave each answer out of its item's counts: is its label (one of) the others' top?
    others = counts[item].astype(float)
    rows = np.arange(len(answers))
    others[rows, label] -= 1
    top = others.max(axis=1, initial=0.0)
    modes = (others == top[:, None]).sum(axis=1)
    credit = np.where(others[rows, label] == top, 1.0 / np.maximum(modes, 1), 0.0)
    return _result(items, raters, item_values, rater, credit, n[item] >= 2)


def interval_agreement(answers: Sequence[tuple[I, R, float]], span: float) -> Agreements[I, R]:
    """Agreement of `(item, rater, rating)` answers on a scale `span` wide."""
    if span <= 0:
        raise ValueError("the scale's span must be positive")
    items, item = _codes(a[0] for a in answers)
    raters, rater = _codes(a[1] for a in answers)
    value = np.asarray([a[2] for a in answers], dtype=float)
    n_items = len(items)
    n = np.bincount(item, minlength=n_items)
    total = np.bincount(item, weights=value, minlength=n_items)
    compared = n[item] >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        others_mean = (total[item] - value) / (n[item] - 1)
    credit = np.where(compared, 1.0 - np.abs(value - others_mean) / span, 0.0)
    # Mean absolute difference over each item's pairs: pair every answer with the
    # ones after it in the same item (answers sorted by item; k steps apart).
    order = np.argsort(item, kind="stable")
    by_item, by_value = item[order], value[order]
    differences = np.zeros(n_items)
    for k in range(1, int(n.max(initial=0))):
        same = by_item[k:] == by_item[:-k]
        gaps = np.abs(by_value[k:] - by_value[:-k])[same]
        differences += np.bincount(by_item[k:][same], weights=gaps, minlength=n_items)
    with np.errstate(invalid="ignore", divide="ignore"):
        item_values = 1.0 - differences / (n * (n - 1) / 2) / span
    item_values[n < 2] = np.nan
    return _result(items, raters, item_values, rater, credit, compared)


def group_by_item(
    answers: Iterable[tuple[I, R, V]],
) -> Mapping[I, list[tuple[R, V]]]:
    """(item, rater, value) triples as {item: [(rater, value), ...]}, in input order."""
    grouped: dict[I, list[tuple[R, V]]] = {}
    for item, rater, value in answers:
        grouped.setdefault(item, []).append((rater, value))
    return grouped
