"""Aggregating categorical labels: Dawid–Skene EM, with majority vote as fallback.

Dawid & Skene (1979, "Maximum likelihood estimation of observer error-rates using
the EM algorithm", Applied Statistics 28:20–28) model each rater by a confusion
matrix θ_r[k, l] = P(rater r says l | the true class is k) and each item's true
class as a draw from class priors π. EM alternates:

* E-step: P(item i is class k | answers) ∝ π_k · Π_{answers (r, l) on i} θ_r[k, l];
* M-step: π and θ re-estimated from those posteriors (expected counts).

It starts from the majority-vote shares, as the paper and crowd-kit do. Unlike the
paper's pure maximum likelihood, the M-step adds a `Prior` (a MAP estimate under
Dirichlet priors): each rater starts with `strength` imaginary answers per true
class, a share `accuracy` of them right and the rest spread over the wrong labels,
and each class with one imaginary item. With twenty answers a rater would
otherwise look flawless on a class they never got wrong, and the posteriors would
claim certainty the data does not give; with a handful of answers in all, EM could
even swap labels (a unanimous item labelled otherwise). The prior leans towards
"raters are better than chance", so on little data Dawid–Skene behaves like a
weighted majority vote and the data takes over as it grows. `MLE` (no prior) is
the paper's estimator, cells clipped at 1e-10 as crowd-kit does; the tests check
it against crowd-kit's DawidSkene.

Items whose true class is known (gold) keep it throughout: their posterior is
fixed at that class, so they teach the confusion matrices without being guessed.

EM needs someone to compare a rater with: with fewer than two raters, no item
answered twice, or a single class, the result is the majority vote (ties go to
the class listed first) and there are no per-rater estimates.

Everything is numpy on integer-coded answers; `analysis` maps labels to codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

Method = Literal["dawid-skene", "majority-vote"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

EPS = 1e-10
MAX_ITERATIONS = 100
TOLERANCE = 1e-7  # largest change of any posterior between iterations


@dataclass(frozen=True, slots=True)
class Prior:
    """Imaginary answers added in every M-step (see the module docstring)."""

    strength: float = 2.0  # imaginary answers per rater and true class
    accuracy: float = 0.7  # the share of them that are right

    def __post_init__(self) -> None:
        if self.strength < 0 or not 0.0 <= self.accuracy <= 1.0:
            raise ValueError("a prior needs strength >= 0 and accuracy in [0, 1]")

    def pseudo_counts(self, n_classes: int) -> FloatArray:
        """[true class, given label] imaginary answers of one rater."""
        if n_classes < 2:
            return np.full((n_classes, n_classes), self.strength)
        wrong = self.strength * (1.0 - self.accuracy) / (n_classes - 1)
        counts: FloatArray = np.full((n_classes, n_classes), wrong)
        np.fill_diagonal(counts, self.strength * self.accuracy)
        return counts

    @property
    def per_class(self) -> float:
        """Imaginary items per class in the class priors."""
        return 1.0 if self.strength > 0 else 0.0


DEFAULT_PRIOR = Prior()
MLE = Prior(strength=0.0)


@dataclass(frozen=True, eq=False)
class LabelModel:
    """What aggregation found.

    `posteriors[i, k]`: P(item i is class k); `labels[i]` its most probable class
    (the first of equals) and `confidence[i]` that probability. `confusion[r, k, l]`
    (Dawid–Skene only): P(rater r says l | true class k); `rater_accuracy[r]`: the
    expected share of rater r's answers that are right under the posteriors (None for
    majority vote, which has no model of the raters)."""

    method: Method
    posteriors: FloatArray
    priors: FloatArray
    confusion: FloatArray | None
    rater_accuracy: FloatArray | None
    iterations: int

    @property
    def labels(self) -> IntArray:
        labels: IntArray = np.argmax(self.posteriors, axis=1)
        return labels

    @property
    def confidence(self) -> FloatArray:
        confidence: FloatArray = np.max(self.posteriors, axis=1)
        return confidence


def _codes(
    answers: Sequence[tuple[int, int, int]], n_items: int, n_raters: int | None, n_classes: int
) -> tuple[IntArray, IntArray, IntArray]:
    codes = np.asarray(answers, dtype=np.intp).reshape(-1, 3)
    items, raters, labels = codes[:, 0], codes[:, 1], codes[:, 2]
    for name, values, bound in (
        ("item", items, n_items),
        ("rater", raters, n_raters),
        ("label", labels, n_classes),
    ):
        if bound is None:
            continue
        if values.size and (values.min() < 0 or values.max() >= bound):
            raise ValueError(f"a {name} code is outside 0..{bound - 1}")
    return items, raters, labels


def _vote_shares(items: IntArray, labels: IntArray, n_items: int, n_classes: int) -> FloatArray:
    cells = np.bincount(items * n_classes + labels, minlength=n_items * n_classes)
    votes = cells.reshape(n_items, n_classes).astype(float)
    totals = votes.sum(axis=1, keepdims=True)
    unanswered = totals[:, 0] == 0
    votes[unanswered] = 1.0  # nothing said about it: every class alike
    totals[unanswered] = n_classes
    shares: FloatArray = votes / totals
    return shares


def _clamp(posteriors: FloatArray, known: Mapping[int, int]) -> FloatArray:
    for item, cls in known.items():
        posteriors[item] = 0.0
        posteriors[item, cls] = 1.0
    return posteriors


def majority_vote(
    answers: Sequence[tuple[int, int, int]],
    n_items: int,
    n_classes: int,
    known: Mapping[int, int] | None = None,
) -> LabelModel:
    """Each item's label shares as its posterior: the majority label, with the share
    of answers that gave it as confidence (known items keep their class)."""
    items, _, labels = _codes(answers, n_items, None, n_classes)
    shares = _clamp(_vote_shares(items, labels, n_items, n_classes), known or {})
    priors = shares.mean(axis=0) if n_items else np.full(n_classes, 1.0 / max(n_classes, 1))
    return LabelModel("majority-vote", shares, priors, None, None, 0)


def _m_step(
    posteriors: FloatArray,
    items: IntArray,
    raters: IntArray,
    labels: IntArray,
    n_raters: int,
    prior: Prior,
) -> tuple[FloatArray, FloatArray]:
    n_items, n_classes = posteriors.shape
    extra = prior.per_class
    priors = (posteriors.sum(axis=0) + extra) / (n_items + n_classes * extra)
    counts = np.zeros((n_raters, n_classes, n_classes))
    given = raters * n_classes + labels  # (rater, label) cells, flattened
    for true_class in range(n_classes):
        weights = posteriors[items, true_class]
        cells = np.bincount(given, weights=weights, minlength=n_raters * n_classes)
        counts[:, true_class, :] = cells.reshape(n_raters, n_classes)
    counts = np.clip(counts + prior.pseudo_counts(n_classes), EPS, None)
    confusion: FloatArray = counts / counts.sum(axis=2, keepdims=True)
    return np.clip(priors, EPS, None), confusion


def _e_step(
    priors: FloatArray,
    confusion: FloatArray,
    items: IntArray,
    raters: IntArray,
    labels: IntArray,
    n_items: int,
) -> FloatArray:
    log_post = np.tile(np.log(priors), (n_items, 1))
    log_given = np.log(confusion)[raters, :, labels]  # (answer, true class)
    for true_class in range(len(priors)):
        log_post[:, true_class] += np.bincount(
            items, weights=log_given[:, true_class], minlength=n_items
        )
    log_post -= log_post.max(axis=1, keepdims=True)
    post = np.exp(log_post)
    result: FloatArray = post / post.sum(axis=1, keepdims=True)
    return result


def dawid_skene(
    answers: Sequence[tuple[int, int, int]],
    n_items: int,
    n_raters: int,
    n_classes: int,
    *,
    known: Mapping[int, int] | None = None,
    prior: Prior = DEFAULT_PRIOR,
    max_iterations: int = MAX_ITERATIONS,
    tolerance: float = TOLERANCE,
) -> LabelModel:
    """Dawid–Skene on `(item, rater, label)` codes (items 0..n_items-1 and so on).

    `known` maps item codes to their true class (gold). Falls back to
    `majority_vote` when EM cannot learn anything about the raters."""
    known = dict(known or {})
    for item, cls in known.items():
        if not (0 <= item < n_items and 0 <= cls < n_classes):
            raise ValueError(f"known class {cls} of item {item} is outside the codes")
    items, raters, labels = _codes(answers, n_items, n_raters, n_classes)
    per_item = np.bincount(items, minlength=n_items)
    if len(np.unique(raters)) < 2 or per_item.max(initial=0) < 2 or n_classes < 2:
        return majority_vote(answers, n_items, n_classes, known)

    posteriors = _clamp(_vote_shares(items, labels, n_items, n_classes), known)
    priors, confusion = _m_step(posteriors, items, raters, labels, n_raters, prior)
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007  (reported afterwards)
        updated = _clamp(_e_step(priors, confusion, items, raters, labels, n_items), known)
        priors, confusion = _m_step(updated, items, raters, labels, n_raters, prior)
        change = float(np.abs(updated - posteriors).max())
        posteriors = updated
        if change < tolerance:
            break

    right = posteriors[items, labels]
    given = np.bincount(raters, minlength=n_raters).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.bincount(raters, weights=right, minlength=n_raters) / given
    return LabelModel("dawid-skene", posteriors, priors, confusion, accuracy, iterations)
