"""Dawid–Skene (hdops.domain.quality.dawid_skene): it recovers the truth from
simulated raters of known accuracy better than majority vote, gives crowd-kit's
labels on the same answers, and keeps its invariants on any input."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from crowdkit.aggregation import DawidSkene as CrowdKitDawidSkene
from hypothesis import given, settings
from hypothesis import strategies as st

from hdops.domain.quality.analysis import analyse_labels
from hdops.domain.quality.dawid_skene import MLE, Prior, dawid_skene, majority_vote

Answers = list[tuple[int, int, int]]

# crowd-kit calls pandas in ways pandas 3 deprecates; its warnings are not ours.
pytestmark = pytest.mark.filterwarnings("ignore::Warning:crowdkit")


@dataclass
class Crowd:
    truth: np.ndarray
    answers: Answers
    accuracy: np.ndarray
    n_classes: int


def simulate(
    seed: int,
    accuracy: list[float],
    *,
    n_items: int = 400,
    per_item: int = 5,
    n_classes: int = 3,
    priors: list[float] | None = None,
) -> Crowd:
    """Raters who give the true class with their accuracy, else a wrong class at random."""
    rng = np.random.default_rng(seed)
    acc = np.array(accuracy)
    truth = rng.choice(n_classes, size=n_items, p=priors)
    answers: Answers = []
    for item in range(n_items):
        for rater in rng.choice(len(acc), size=per_item, replace=False):
            label = truth[item]
            if rng.random() >= acc[rater]:
                label = rng.choice([k for k in range(n_classes) if k != truth[item]])
            answers.append((item, int(rater), int(label)))
    return Crowd(truth, answers, acc, n_classes)


# A few good raters, several near chance, two worse than chance (three classes:
# chance is 1/3) — majority vote counts them all alike, Dawid–Skene weighs them.
MIXED = [0.95, 0.9, 0.85, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_dawid_skene_beats_majority_vote_on_raters_of_known_accuracy(seed: int) -> None:
    crowd = simulate(seed, MIXED)
    ds = dawid_skene(crowd.answers, len(crowd.truth), len(MIXED), crowd.n_classes)
    mv = majority_vote(crowd.answers, len(crowd.truth), crowd.n_classes)
    ds_right = float((ds.labels == crowd.truth).mean())
    mv_right = float((mv.labels == crowd.truth).mean())
    assert ds.method == "dawid-skene" and mv.method == "majority-vote"
    assert ds_right >= mv_right + 0.05, (ds_right, mv_right)
    assert ds_right >= 0.85
    # Each rater's estimated accuracy is close to the one they were simulated with.
    assert ds.rater_accuracy is not None
    assert np.abs(ds.rater_accuracy - crowd.accuracy).max() < 0.1  # ~3 standard errors
    # And it knows which of its labels to trust: confident labels are right more often.
    confident = ds.confidence >= 0.9
    assert (ds.labels[confident] == crowd.truth[confident]).mean() > ds_right


def _crowd_kit(answers: Answers, gold: dict[int, int] | None = None) -> tuple[np.ndarray, int]:
    """crowd-kit's posteriors (items in order) and how many EM rounds it ran."""
    data = pd.DataFrame(answers, columns=["task", "worker", "label"])
    model = CrowdKitDawidSkene(n_iter=500, tol=1e-10)
    truth = pd.Series(gold) if gold else None
    probas = model.fit_predict_proba(data, true_labels=truth).sort_index()
    assert list(probas.index) == sorted({a[0] for a in answers})
    return probas[sorted(probas.columns)].to_numpy(), len(model.loss_history_)


@pytest.mark.parametrize("seed", [4, 5, 6])
@pytest.mark.parametrize("with_gold", [False, True])
def test_matches_crowd_kit(seed: int, with_gold: bool) -> None:
    """Without a prior our EM is the paper's estimator, which crowd-kit implements
    (crowd-kit's `true_labels` is our `known`). Run for as many rounds as crowd-kit
    ran, the posteriors agree to within its 1e-10 clipping; run to convergence (crowd-kit
    stops as soon as its evidence bound stops rising), every label is still the same."""
    crowd = simulate(seed, MIXED, n_items=300, per_item=4, priors=[0.5, 0.3, 0.2])
    gold = {i: int(crowd.truth[i]) for i in range(0, 300, 10)} if with_gold else {}
    theirs, rounds = _crowd_kit(crowd.answers, gold)

    def ours(rounds: int, tolerance: float) -> np.ndarray:
        model = dawid_skene(
            crowd.answers,
            300,
            len(MIXED),
            3,
            known=gold,
            prior=MLE,
            max_iterations=rounds,
            tolerance=tolerance,
        )
        assert model.method == "dawid-skene"
        return model.posteriors

    np.testing.assert_allclose(ours(rounds, 0.0), theirs, atol=1e-8)
    converged = ours(1000, 1e-12)
    assert (converged.argmax(axis=1) == theirs.argmax(axis=1)).all()


def test_default_prior_keeps_crowd_kits_labels_on_plenty_of_data() -> None:
    crowd = simulate(6, MIXED, n_items=400, per_item=5)
    ours = dawid_skene(crowd.answers, 400, len(MIXED), 3)
    theirs, _ = _crowd_kit(crowd.answers)
    assert (ours.labels == theirs.argmax(axis=1)).mean() >= 0.98


def test_gold_items_keep_their_class_and_sharpen_the_rest() -> None:
    crowd = simulate(7, MIXED, n_items=200, per_item=3)
    gold = {i: int(crowd.truth[i]) for i in range(40)}
    plain = dawid_skene(crowd.answers, 200, len(MIXED), 3)
    anchored = dawid_skene(crowd.answers, 200, len(MIXED), 3, known=gold)
    for item, cls in gold.items():
        assert anchored.labels[item] == cls and anchored.confidence[item] == 1.0
    rest = np.arange(40, 200)
    assert (anchored.labels[rest] == crowd.truth[rest]).mean() >= (
        plain.labels[rest] == crowd.truth[rest]
    ).mean()


def test_majority_vote_fallback_when_raters_cannot_be_compared() -> None:
    alone = [(0, 0, 1), (1, 0, 0), (2, 0, 1)]
    result = dawid_skene(alone, 3, 1, 2)
    assert result.method == "majority-vote"
    assert result.rater_accuracy is None and result.confusion is None
    assert list(result.labels) == [1, 0, 1] and list(result.confidence) == [1.0, 1.0, 1.0]
    no_overlap = [(0, 0, 1), (1, 1, 0)]  # two raters, no item answered twice
    assert dawid_skene(no_overlap, 2, 2, 2).method == "majority-vote"


def test_majority_vote_shares_and_ties_by_hand() -> None:
    answers = [(0, 0, 2), (0, 1, 2), (0, 2, 0), (1, 0, 1), (1, 1, 0)]
    result = majority_vote(answers, 3, 3, known={2: 1})
    assert list(result.labels) == [2, 0, 1]  # item 1: a tie goes to the class listed first
    np.testing.assert_allclose(result.confidence, [2 / 3, 1 / 2, 1.0])


def test_analyse_labels_maps_labels_and_keeps_declared_order() -> None:
    votes = [
        ("i1", "ann", "b"),
        ("i1", "bo", "b"),
        ("i1", "cy", "a"),
        ("i2", "ann", "a"),
        ("i2", "bo", "a"),
        ("i2", "cy", "a"),
        ("i3", "ann", "tie"),
    ]
    result = analyse_labels(votes, ["a", "b", "tie"], gold={"i3": "b"})
    assert result.classes == ("a", "b", "tie")
    assert result.method == "dawid-skene"
    assert result.items["i1"].label == "b" and result.items["i1"].answers == 3
    assert result.items["i1"].agreement == pytest.approx(2 / 6)
    assert result.items["i2"].label == "a" and result.items["i2"].agreement == 1.0
    assert result.items["i3"].label == "b" and result.items["i3"].confidence == 1.0
    assert result.items["i3"].agreement is None
    cy = result.raters["cy"]
    assert cy.answers == 2 and cy.agreement is not None and cy.agreement.compared == 2
    assert cy.confusion is not None and len(cy.confusion) == 3
    assert all(sum(row) == pytest.approx(1.0) for row in cy.confusion)
    assert 0.0 <= (cy.accuracy or 0.0) <= 1.0


answers_strategy = st.lists(
    st.tuples(st.integers(0, 11), st.integers(0, 5), st.integers(0, 3)),
    min_size=1,
    max_size=60,
    unique_by=lambda a: (a[0], a[1]),  # a rater answers an item once
)


@settings(max_examples=60, deadline=None)
@given(answers_strategy, st.sampled_from([MLE, Prior(), Prior(1.0, 0.5), Prior(5.0, 0.9)]))
def test_posteriors_are_probabilities(answers: Answers, prior: Prior) -> None:
    result = dawid_skene(answers, 12, 6, 4, prior=prior)
    assert np.all(result.posteriors >= 0.0) and np.all(result.posteriors <= 1.0)
    np.testing.assert_allclose(result.posteriors.sum(axis=1), 1.0)
    assert np.all((result.confidence >= 0.0) & (result.confidence <= 1.0))
    if result.rater_accuracy is not None:
        seen = sorted({r for _, r, _ in answers})
        assert np.all((result.rater_accuracy[seen] >= 0) & (result.rater_accuracy[seen] <= 1))


@settings(max_examples=60, deadline=None)
@given(answers_strategy, st.permutations(range(4)), st.permutations(range(12)))
def test_renaming_classes_or_reordering_items_changes_nothing(
    answers: Answers, classes: list[int], items: list[int]
) -> None:
    before = dawid_skene(answers, 12, 6, 4)
    renamed = [(items[i], r, classes[k]) for i, r, k in answers]
    after = dawid_skene(renamed, 12, 6, 4)
    # item i, class k before is item items[i], class classes[k] after
    np.testing.assert_allclose(
        after.posteriors[np.ix_(items, classes)], before.posteriors, atol=1e-9
    )
    assert after.method == before.method


def test_bad_codes_are_refused() -> None:
    with pytest.raises(ValueError, match="label code"):
        dawid_skene([(0, 0, 3)], 1, 1, 3)
    with pytest.raises(ValueError, match="known class"):
        dawid_skene([(0, 0, 1)], 1, 1, 2, known={0: 5})
    with pytest.raises(ValueError, match="prior"):
        Prior(strength=-1)


def test_little_data_keeps_unanimous_items() -> None:
    """Three raters, two shared items: without a prior EM may explain anything by a
    confusion matrix; with the default one a unanimous item keeps its label."""
    answers = [(0, 0, 1), (0, 1, 1), (0, 2, 0), (1, 0, 0), (1, 1, 0), (1, 2, 0), (2, 0, 2)]
    for known in ({}, {2: 1}):
        result = dawid_skene(answers, 3, 3, 3, known=known)
        assert list(result.labels[:2]) == [1, 0]
        assert result.confidence[1] > 0.9
