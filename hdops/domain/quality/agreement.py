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
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import krippendorff
import numpy as np

Level = Literal["nominal", "ordinal", "interval"]
NOMINAL: Level = "nominal"

I = TypeVar("I", bound=Hashable)  # noqa: E741  (item key)
R = TypeVar("R", bound=Hashable)
V = TypeVar("V", bound=Hashable)


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


def nominal_item_agreement(labels: Sequence[Hashable]) -> float | None:
    """Share of the pairs of answers on one item that give the same label."""
    n = len(labels)
    if n < 2:
        return None
    agreeing = sum(c * (c - 1) for c in Counter(labels).values())
    return agreeing / (n * (n - 1))


def interval_item_agreement(values: Sequence[float], span: float) -> float | None:
    """1 − the mean absolute difference between pairs of ratings / the scale's span."""
    n = len(values)
    if n < 2:
        return None
    if span <= 0:
        raise ValueError("the scale's span must be positive")
    total = sum(abs(a - b) for i, a in enumerate(values) for b in values[i + 1 :])
    return 1.0 - total / (n * (n - 1) / 2) / span


@dataclass(frozen=True, slots=True)
class ConsensusAgreement:
    """A rater's agreement with the others: `value` in [0, 1] over `compared` answers
    (their answers on items someone else answered too)."""

    value: float
    compared: int


def _by_rater(credits: Iterable[tuple[R, float]]) -> dict[R, ConsensusAgreement]:
    sums: dict[R, float] = {}
    counts: dict[R, int] = {}
    for rater, credit in credits:
        sums[rater] = sums.get(rater, 0.0) + credit
        counts[rater] = counts.get(rater, 0) + 1
    return {r: ConsensusAgreement(sums[r] / counts[r], counts[r]) for r in sums}


def nominal_consensus_agreement(
    items: Iterable[Sequence[tuple[R, Hashable]]],
) -> dict[R, ConsensusAgreement]:
    """Each rater's agreement with the majority of the others' labels, item by item.

    `items` holds, for each item, its (rater, label) answers. Raters who never share
    an item with anyone are absent from the result."""

    def credits() -> Iterable[tuple[R, float]]:
        for answers in items:
            if len(answers) < 2:
                continue
            counts = Counter(label for _, label in answers)
            for rater, label in answers:
                counts[label] -= 1  # leave this answer out
                top = max(counts.values())
                modes = [lab for lab, c in counts.items() if c == top]
                yield rater, (1.0 / len(modes) if label in modes else 0.0)
                counts[label] += 1

    return _by_rater(credits())


def interval_consensus_agreement(
    items: Iterable[Sequence[tuple[R, float]]], span: float
) -> dict[R, ConsensusAgreement]:
    """Each rater's agreement with the mean of the others' ratings, item by item:
    1 − |rating − others' mean| / span, averaged over the rater's compared answers."""
    if span <= 0:
        raise ValueError("the scale's span must be positive")

    def credits() -> Iterable[tuple[R, float]]:
        for answers in items:
            n = len(answers)
            if n < 2:
                continue
            total = sum(value for _, value in answers)
            for rater, value in answers:
                others = (total - value) / (n - 1)
                yield rater, 1.0 - abs(value - others) / span

    return _by_rater(credits())


def group_by_item(
    answers: Iterable[tuple[I, R, V]],
) -> Mapping[I, list[tuple[R, V]]]:
    """(item, rater, value) triples as {item: [(rater, value), ...]}, in input order."""
    grouped: dict[I, list[tuple[R, V]]] = {}
    for item, rater, value in answers:
        grouped.setdefault(item, []).append((rater, value))
    return grouped
