"""One pass over a project's accepted answers: per-item aggregates, per-rater
estimates and agreement, from the pieces in this package.

Categorical answers (pairwise, choice) go through Dawid–Skene; an item's label is
its most probable class and its confidence that posterior probability. A choice
answer with several labels counts as one category, the set of its labels.

Ratings go through the offset model (`calibration`): each item gets the mean and
median of its raw ratings and of its calibrated ones (rating − rater offset). Its
label is the calibrated mean rounded to the nearest scale point, and its
confidence the probability, under the model's normal noise, that the item's true
calibrated rating rounds to that point: P(label − ½ < μ < label + ½) with
μ ~ N(calibrated mean, residual sd / √answers), the ends of the scale open. It
leaves out the offsets' own uncertainty, and is None when the noise cannot be
estimated. Calibrated values are not clipped to the scale: a lenient rater's 10
may honestly calibrate to 11.

Agreement per item and per rater is on the raw answers (what people said).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from hdops.domain.quality import agreement as agree
from hdops.domain.quality.agreement import ConsensusAgreement, Level
from hdops.domain.quality.calibration import Offset, fit_offsets
from hdops.domain.quality.dawid_skene import dawid_skene

I = TypeVar("I", bound=Hashable)  # noqa: E741  (item key)
R = TypeVar("R", bound=Hashable)

Method = Literal["dawid-skene", "majority-vote", "offsets"]


@dataclass(frozen=True, slots=True)
class ItemResult:
    answers: int
    label: str | None
    confidence: float | None
    agreement: float | None  # None with fewer than two answers
    raw_mean: float | None = None  # ratings only, from here down
    raw_median: float | None = None
    calibrated_mean: float | None = None
    calibrated_median: float | None = None


@dataclass(frozen=True, slots=True)
class RaterResult:
    answers: int
    agreement: ConsensusAgreement | None  # with the leave-one-out consensus
    accuracy: float | None = None  # Dawid–Skene: expected share of right answers
    # Dawid–Skene: P(says column | true row), in `Analysis.classes` order.
    confusion: tuple[tuple[float, ...], ...] | None = None
    offset: Offset | None = None  # ratings


@dataclass(frozen=True)
class Analysis(Generic[I, R]):
    method: Method
    classes: tuple[str, ...]  # categorical: the label order of confusion matrices
    items: Mapping[I, ItemResult]
    raters: Mapping[R, RaterResult]
    residual_sd: float | None = None  # ratings: the noise left after offsets
    anchored: bool = False  # ratings: gold items anchored the offsets


@dataclass(frozen=True, slots=True)
class AlphaFigures:
    """Krippendorff's alpha of one group of answers at the levels that apply."""

    items: int  # items with two or more answers (alpha's units)
    answers: int  # answers on those items
    nominal: float | None = None
    ordinal: float | None = None
    interval: float | None = None
    levels: tuple[Level, ...] = field(default=())

    @property
    def primary(self) -> float | None:
        """Nominal for labels, interval for ratings (SPEC §6b)."""
        return self.interval if "interval" in self.levels else self.nominal


def label_classes(declared: Sequence[str], seen: Sequence[str]) -> tuple[str, ...]:
    """The task's declared labels in order, then any other label seen, sorted."""
    extra = sorted(set(seen) - set(declared))
    return (*dict.fromkeys(declared), *extra)


def alpha_figures(
    votes: Sequence[tuple[Hashable, Hashable, Hashable]],
    levels: Sequence[Level],
    domain: Sequence[Hashable],
) -> AlphaFigures:
    """Alpha of `(item, rater, value)` answers at each of `levels`."""
    units = [[v for _, v in answers] for answers in agree.group_by_item(votes).values()]
    pairable = [u for u in units if len(u) >= 2]
    values = {level: agree.krippendorff_alpha(pairable, level, domain) for level in levels}
    return AlphaFigures(
        items=len(pairable),
        answers=sum(len(u) for u in pairable),
        nominal=values.get("nominal"),
        ordinal=values.get("ordinal"),
        interval=values.get("interval"),
        levels=tuple(levels),
    )


K = TypeVar("K", bound=Hashable)


def _codes(keys: Sequence[K]) -> dict[K, int]:
    return {key: i for i, key in enumerate(dict.fromkeys(keys))}


def analyse_labels(
    votes: Sequence[tuple[I, R, str]],
    declared: Sequence[str],
    gold: Mapping[I, str] | None = None,
) -> Analysis[I, R]:
    """Aggregate categorical `(item, rater, label)` answers; `gold` maps items to
    their known label."""
    gold = gold or {}
    classes = label_classes(declared, [v for _, _, v in votes] + list(gold.values()))
    if not votes:
        return Analysis("majority-vote", classes, {}, {})
    class_code = {c: k for k, c in enumerate(classes)}
    item_code = _codes([i for i, _, _ in votes])
    rater_code = _codes([r for _, r, _ in votes])
    model = dawid_skene(
        [(item_code[i], rater_code[r], class_code[v]) for i, r, v in votes],
        len(item_code),
        len(rater_code),
        len(classes),
        known={item_code[i]: class_code[g] for i, g in gold.items() if i in item_code},
    )
    agreement = agree.nominal_agreement(votes)
    per_item = _answer_counts((i for i, _, _ in votes))
    labels, confidence = model.labels, model.confidence
    items = {
        item: ItemResult(
            answers=per_item[item],
            label=classes[int(labels[code])],
            confidence=float(confidence[code]),
            agreement=agreement.items[item],
        )
        for item, code in item_code.items()
    }
    consensus = agreement.raters
    counts = _answer_counts(r for _, r, _ in votes)
    raters: dict[R, RaterResult] = {}
    for rater, code in rater_code.items():
        accuracy = confusion = None
        if model.rater_accuracy is not None and model.confusion is not None:
            accuracy = float(model.rater_accuracy[code])
            confusion = tuple(tuple(float(p) for p in row) for row in model.confusion[code])
        raters[rater] = RaterResult(counts[rater], consensus.get(rater), accuracy, confusion)
    return Analysis(model.method, classes, items, raters)


def _answer_counts(keys: Iterable[K]) -> dict[K, int]:
    counts: dict[K, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    return counts


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def rating_confidence(
    mean: float, answers: int, sd: float | None, low: int, high: int
) -> tuple[int, float | None]:
    """The scale point the calibrated `mean` rounds to, and the probability that the
    item's true calibrated rating rounds to it (see the module docstring)."""
    label = min(high, max(low, math.floor(mean + 0.5)))
    if sd is None or answers < 1:
        return label, None
    se = sd / math.sqrt(answers)
    if se == 0:
        return label, 1.0
    below = 0.0 if label == low else _normal_cdf((label - 0.5 - mean) / se)
    above = 1.0 if label == high else _normal_cdf((label + 0.5 - mean) / se)
    return label, max(0.0, min(1.0, above - below))


def analyse_ratings(
    votes: Sequence[tuple[I, R, int]],
    low: int,
    high: int,
    gold: Mapping[I, float] | None = None,
) -> Analysis[I, R]:
    """Aggregate `(item, rater, rating)` answers on the scale low..high with the
    offset model; `gold` maps items to their known rating."""
    if high <= low:
        raise ValueError("the scale needs high > low")
    model = fit_offsets([(i, r, float(v)) for i, r, v in votes], gold)
    grouped = agree.group_by_item(votes)
    agreement = agree.interval_agreement([(i, r, float(v)) for i, r, v in votes], float(high - low))
    items: dict[I, ItemResult] = {}
    for item, answers in grouped.items():
        raw = [float(v) for _, v in answers]
        calibrated = [model.calibrated(r, float(v)) for r, v in answers]
        mean = statistics.fmean(calibrated)
        label, confidence = rating_confidence(mean, len(raw), model.residual_sd, low, high)
        items[item] = ItemResult(
            answers=len(raw),
            label=str(label),
            confidence=confidence,
            agreement=agreement.items[item],
            raw_mean=statistics.fmean(raw),
            raw_median=float(statistics.median(raw)),
            calibrated_mean=mean,
            calibrated_median=float(statistics.median(calibrated)),
        )
    counts = _answer_counts(r for _, r, _ in votes)
    raters = {
        rater: RaterResult(counts[rater], agreement.raters.get(rater), offset=model.offsets[rater])
        for rater in counts
    }
    return Analysis(
        "offsets", (), items, raters, residual_sd=model.residual_sd, anchored=model.anchored
    )
