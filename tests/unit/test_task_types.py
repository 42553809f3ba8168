"""Task types: answer validation, gold comparison and labels for every type."""

from __future__ import annotations

from typing import Any

import pytest

from hdops.domain.tasks.base import TaskSettings
from hdops.domain.tasks.registry import TASK_TYPES, get_task_type, parse_task_settings
from hdops.errors import InvalidInput, NotFound


def settings(kind: str, **extra: Any) -> TaskSettings:
    return parse_task_settings({"type": kind, "fields": ["x"], **extra})


def problems(kind: str, answer: dict[str, Any], **extra: Any) -> list[str]:
    with pytest.raises(InvalidInput) as info:
        get_task_type(kind).validate_answer(settings(kind, **extra), answer)
    return info.value.problems


def valid(kind: str, answer: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return get_task_type(kind).validate_answer(settings(kind, **extra), answer)


CHOICE = {"options": ["injury", "no-injury", "unsure"]}
RATING = {"scale": {"min": 1, "max": 10, "labels": {1: "harmful", 10: "excellent"}}}
TEXT = {"min_chars": 20, "max_chars": 200}

# one valid answer per type, with the settings it needs
VALID_ANSWERS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("pairwise", {"choice": "a"}, {}),
    ("rating", {"rating": 7}, RATING),
    ("choice", {"labels": ["injury"]}, CHOICE),
    ("text", {"text": "Thanks for writing in, here is how to fix it."}, TEXT),
]


def test_the_registry_knows_the_four_types() -> None:
    assert set(TASK_TYPES) == {"pairwise", "rating", "choice", "text"}
    with pytest.raises(NotFound, match="unknown task type"):
        get_task_type("essay")


# --------------------------------------------------------------------------- pairwise


@pytest.mark.parametrize("choice", ["a", "b", "tie"])
def test_pairwise_accepts_a_b_tie(choice: str) -> None:
    assert valid("pairwise", {"choice": choice}) == {"choice": choice}


@pytest.mark.parametrize("bad", [{"choice": "c"}, {"choice": "A "}, {}, {"choice": 1}])
def test_pairwise_refuses_other_choices(bad: dict[str, Any]) -> None:
    assert any(p.startswith("answer.choice:") for p in problems("pairwise", bad))


def test_pairwise_tie_can_be_disallowed() -> None:
    assert problems("pairwise", {"choice": "tie"}, allow_tie=False) == [
        "answer.choice: this project does not allow ties"
    ]


def test_pairwise_gold_and_label() -> None:
    t, s = get_task_type("pairwise"), settings("pairwise")
    assert t.is_correct(s, {"choice": "a"}, {"choice": "a"}) is True
    assert t.is_correct(s, {"choice": "tie"}, {"choice": "a"}) is False
    assert t.label(s, {"choice": "b"}) == "b"


# --------------------------------------------------------------------------- rating


@pytest.mark.parametrize("value", [1, 5, 10])
def test_rating_on_scale(value: int) -> None:
    assert valid("rating", {"rating": value}, **RATING) == {"rating": value}


@pytest.mark.parametrize("value", [0, 11, -3])
def test_rating_off_scale(value: int) -> None:
    assert problems("rating", {"rating": value}, **RATING) == [
        "answer.rating: must be between 1 and 10"
    ]


def test_rating_must_be_a_whole_number() -> None:
    assert any(p.startswith("answer.rating:") for p in problems("rating", {"rating": "lots"}))
    assert any(p.startswith("answer.rating:") for p in problems("rating", {"rating": 2.5}))


def test_rating_gold_with_and_without_tolerance() -> None:
    t = get_task_type("rating")
    exact, loose = settings("rating", **RATING), settings("rating", **RATING, gold_tolerance=1)
    assert t.is_correct(exact, {"rating": 7}, {"rating": 7}) is True
    assert t.is_correct(exact, {"rating": 8}, {"rating": 7}) is False
    assert t.is_correct(loose, {"rating": 8}, {"rating": 7}) is True
    assert t.is_correct(loose, {"rating": 9}, {"rating": 7}) is False
    assert t.is_correct(exact, {"rating": 7}, {}) is False
    assert t.label(exact, {"rating": 3}) == "3"


# --------------------------------------------------------------------------- choice


def test_choice_single() -> None:
    assert valid("choice", {"labels": ["unsure"]}, **CHOICE) == {"labels": ["unsure"]}
    assert problems("choice", {"labels": ["injury", "unsure"]}, **CHOICE) == [
        "answer.labels: choose exactly one option"
    ]


def test_choice_unknown_and_repeated_options() -> None:
    assert problems("choice", {"labels": ["broken-leg"]}, **CHOICE) == [
        "answer.labels: unknown option(s) broken-leg"
    ]
    found = problems("choice", {"labels": ["injury", "injury"]}, **CHOICE, multiple=True)
    assert found == ["answer.labels: an option is given twice"]


def test_choice_needs_at_least_one_label() -> None:
    assert any(p.startswith("answer.labels:") for p in problems("choice", {"labels": []}, **CHOICE))


def test_choice_multiple() -> None:
    answer = {"labels": ["injury", "unsure"]}
    assert valid("choice", answer, **CHOICE, multiple=True) == answer


def test_choice_gold_ignores_order_and_label_is_canonical() -> None:
    t, s = get_task_type("choice"), settings("choice", **CHOICE, multiple=True)
    assert t.is_correct(s, {"labels": ["unsure", "injury"]}, {"labels": ["injury", "unsure"]})
    assert not t.is_correct(s, {"labels": ["injury"]}, {"labels": ["injury", "unsure"]})
    assert t.label(s, {"labels": ["unsure", "injury"]}) == "injury|unsure"


# --------------------------------------------------------------------------- text


def test_text_length_limits() -> None:
    assert problems("text", {"text": "  too short   "}, **TEXT) == [
        "answer.text: at least 20 characters (got 9)"
    ]
    assert problems("text", {"text": "x" * 201}, **TEXT) == ["answer.text: at most 200 characters"]
    assert valid("text", {"text": "y" * 200}, **TEXT) == {"text": "y" * 200}


def test_text_has_no_automatic_gold() -> None:
    t, s = get_task_type("text"), settings("text", **TEXT)
    same = {"text": "The same reply, word for word."}
    assert t.is_correct(s, same, same) is None
    assert t.label(s, same) is None


# --------------------------------------------------------------------------- all types


@pytest.mark.parametrize(("kind", "answer", "extra"), VALID_ANSWERS, ids=lambda v: str(v)[:12])
def test_unknown_answer_fields_are_refused(
    kind: str, answer: dict[str, Any], extra: dict[str, Any]
) -> None:
    found = problems(kind, {**answer, "confidence": 0.9}, **extra)
    assert found == ["answer.confidence: unknown field"]


@pytest.mark.parametrize(("kind", "answer", "extra"), VALID_ANSWERS, ids=lambda v: str(v)[:12])
def test_rationale_none(kind: str, answer: dict[str, Any], extra: dict[str, Any]) -> None:
    assert valid(kind, answer, **extra, rationale="none") == answer
    assert valid(kind, {**answer, "rationale": "   "}, **extra, rationale="none") == answer
    assert problems(kind, {**answer, "rationale": "because"}, **extra, rationale="none") == [
        "answer.rationale: this project does not take a rationale"
    ]


@pytest.mark.parametrize(("kind", "answer", "extra"), VALID_ANSWERS, ids=lambda v: str(v)[:12])
def test_rationale_optional(kind: str, answer: dict[str, Any], extra: dict[str, Any]) -> None:
    assert valid(kind, answer, **extra, rationale="optional") == answer
    given = {**answer, "rationale": "  B gets the dose wrong.  "}
    assert valid(kind, given, **extra, rationale="optional") == {
        **answer,
        "rationale": "B gets the dose wrong.",
    }


@pytest.mark.parametrize(("kind", "answer", "extra"), VALID_ANSWERS, ids=lambda v: str(v)[:12])
def test_rationale_required(kind: str, answer: dict[str, Any], extra: dict[str, Any]) -> None:
    for missing in (answer, {**answer, "rationale": ""}, {**answer, "rationale": " \n "}):
        assert problems(kind, missing, **extra, rationale="required") == [
            "answer.rationale: a rationale is required"
        ]
    given = {**answer, "rationale": "Clear from the first sentence."}
    assert valid(kind, given, **extra, rationale="required") == given


def test_every_problem_of_an_answer_is_listed() -> None:
    found = problems("choice", {"labels": ["x", "x"]}, **CHOICE, rationale="required")
    assert found == [
        "answer.labels: unknown option(s) x, x",
        "answer.labels: an option is given twice",
        "answer.labels: choose exactly one option",
        "answer.rationale: a rationale is required",
    ]


def test_rationale_length_is_capped() -> None:
    found = problems("pairwise", {"choice": "a", "rationale": "w" * 5000}, rationale="optional")
    assert any(p.startswith("answer.rationale:") for p in found)
