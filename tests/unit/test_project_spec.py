"""Project specs (SPEC §2): every problem listed with its path, nothing half-accepted."""

from __future__ import annotations

import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hdops.domain.projects import ProjectSpec, load_project_spec, parse_project_spec
from hdops.errors import InvalidInput

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def valid_spec(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "helpful-pairs",
        "title": "Helpfulness comparisons",
        "task": {"type": "pairwise", "fields": ["prompt", "response_a", "response_b"]},
        "instructions": "Pick the more helpful response.\n",
        "overlap": 3,
        "gold_share": 0.1,
        "pay": {"per_task": "0.40", "currency": "USD"},
        "researchers": ["slack:U0RES1", "discord:4444"],
    }
    spec.update(changes)
    return spec


def problems_of(raw: Any, base_dir: Path | None = None) -> list[str]:
    with pytest.raises(InvalidInput) as info:
        parse_project_spec(raw, base_dir)
    return info.value.problems


def test_a_valid_spec_parses_with_exact_pay() -> None:
    spec = parse_project_spec(valid_spec())
    assert isinstance(spec, ProjectSpec)
    assert spec.task.type == "pairwise"
    assert spec.pay.per_task == Decimal("0.40")
    assert spec.researchers == ["slack:U0RES1", "discord:4444"]
    assert spec.effective_max_overlap == 3


def test_yaml_float_pay_stays_exact() -> None:
    raw = valid_spec(**yaml.safe_load("pay: {per_task: 0.1, currency: EUR}"))
    assert isinstance(raw["pay"]["per_task"], float)
    spec = parse_project_spec(raw)
    assert spec.pay.per_task == Decimal("0.1") and spec.pay.currency == "EUR"


def test_three_mistakes_are_all_listed_with_paths() -> None:
    raw = valid_spec(overlap=0, researchers=["U0RES1"])
    raw["task"] = {**raw["task"], "rationale": "sometimes"}
    problems = problems_of(raw)
    assert len(problems) == 3, problems
    assert any(p.startswith("overlap:") for p in problems)
    assert any(p.startswith("researchers:") and "identity" in p for p in problems)
    assert any(p.startswith("task.rationale:") for p in problems)


def test_the_summary_and_every_problem_are_in_the_message() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_project_spec(valid_spec(overlap=99, gold_share=2))
    err = info.value
    assert err.summary == "The project spec is not valid:"
    assert "overlap:" in err.message and "gold_share:" in err.message


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        (
            {"type": "rating", "fields": ["comment"], "scale": {"min": 5, "max": 2}},
            "task.scale.max: must be greater than min",
        ),
        (
            {
                "type": "rating",
                "fields": ["c"],
                "scale": {"min": 1, "max": 10, "labels": {11: "x"}},
            },
            "task.scale.labels: labels outside the scale: [11]",
        ),
        ({"type": "essay", "fields": ["prompt"]}, "task.type: unknown task type 'essay'"),
        ({"type": "choice", "fields": ["report"], "options": ["only-one"]}, "task.options:"),
        ({"type": "choice", "fields": ["r"], "options": ["a", "a"]}, "options must be unique"),
        (
            {"type": "text", "fields": ["msg"], "min_chars": 50, "max_chars": 10},
            "max_chars must not be less than min_chars",
        ),
        ({"type": "pairwise", "fields": []}, "task.fields:"),
        ({"type": "pairwise", "fields": ["a", "a"]}, "task.fields: field names must be unique"),
        ({"type": "pairwise", "fields": ["a"], "colour": "red"}, "task.colour: unknown field"),
    ],
)
def test_task_type_specific_errors(task: dict[str, Any], expected: str) -> None:
    problems = problems_of(valid_spec(task=task))
    assert any(p.startswith(expected) or expected in p for p in problems), problems


def test_missing_task_is_reported() -> None:
    raw = valid_spec()
    del raw["task"]
    assert any(p.startswith("task:") for p in problems_of(raw))


@pytest.mark.parametrize("bad", ["U0RES1", "slack:lowercase", "teams:U1", "discord:abc"])
def test_bad_researcher_identity(bad: str) -> None:
    problems = problems_of(valid_spec(researchers=["slack:U0OK1", bad]))
    assert len(problems) == 1 and problems[0].startswith("researchers:"), problems
    assert "[1]" in problems[0]


def test_max_overlap_below_overlap_is_refused() -> None:
    problems = problems_of(valid_spec(overlap=3, max_overlap=2))
    assert problems == ["max_overlap: must not be less than overlap"]


def test_qualification_needs_gold() -> None:
    problems = problems_of(
        valid_spec(gold_share=0, qualification={"min_gold_accuracy": 0.8, "min_gold_answered": 5})
    )
    assert any(p.startswith("qualification:") for p in problems)


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("name", "Helpful Pairs", "name:"),
        ("pay", {"per_task": "forty cents"}, "pay.per_task:"),
        ("pay", {"per_task": "-1"}, "pay.per_task:"),
        ("pay", {"per_task": "0.40", "currency": "dollars"}, "pay.currency:"),
        ("clarifications", {"slack_channel": "#general"}, "clarifications.slack_channel:"),
        ("escalation", {"after_minutes": 0}, "escalation.after_minutes:"),
        ("max_share", 0, "max_share:"),
        ("skills", ["Medical Doctor"], "skills:"),
        ("surprise", True, "surprise: unknown field"),
    ],
)
def test_common_field_errors_have_paths(field: str, value: Any, path: str) -> None:
    problems = problems_of(valid_spec(**{field: value}))
    assert any(p.startswith(path) for p in problems), problems


def test_not_a_mapping() -> None:
    with pytest.raises(InvalidInput, match="mapping"):
        parse_project_spec(["name", "x"])


def test_instructions_file_is_read_relative_to_the_spec(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text("# Guide\nBe kind.\n", encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(
        yaml.safe_dump(valid_spec(instructions="guide.md")), encoding="utf-8"
    )
    spec = load_project_spec(tmp_path / "spec.yaml")
    assert spec.instructions == "# Guide\nBe kind.\n"


def test_instructions_file_newlines_are_normalised(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_bytes(b"# Guide\r\nBe kind.\rBe brief.\n")
    (tmp_path / "spec.yaml").write_text(
        yaml.safe_dump(valid_spec(instructions="guide.md")), encoding="utf-8"
    )
    assert load_project_spec(tmp_path / "spec.yaml").instructions == (
        "# Guide\nBe kind.\nBe brief.\n"
    )


def test_a_huge_instructions_file_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    """A 200 MB file (sparse: it costs no disk) named as instructions is refused as too
    long after reading the most the longest allowed text can take, not all of it."""
    with (tmp_path / "guide.md").open("wb") as f:
        f.truncate(200 * 2**20)
    (tmp_path / "spec.yaml").write_text(
        yaml.safe_dump(valid_spec(instructions="guide.md")), encoding="utf-8"
    )
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput) as info:
            load_project_spec(tmp_path / "spec.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert any("instructions: at most 100000 characters" in p for p in info.value.problems)
    assert peak < 8 * 2**20, peak


def test_missing_instructions_file_is_a_problem_next_to_the_others(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(
        yaml.safe_dump(valid_spec(instructions="nope.md", overlap=0)), encoding="utf-8"
    )
    with pytest.raises(InvalidInput) as info:
        load_project_spec(tmp_path / "spec.yaml")
    problems = info.value.problems
    assert any(p.startswith("instructions: file not found") for p in problems)
    assert any(p.startswith("overlap:") for p in problems)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("name: x\ntask: [unclosed\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        load_project_spec(path)


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not found"):
        load_project_spec(tmp_path / "nope.yaml")


EXAMPLE_SPECS = sorted(EXAMPLES.glob("*/spec.yaml"))


def test_there_is_one_example_per_task_type() -> None:
    types = {load_project_spec(p).task.type for p in EXAMPLE_SPECS}
    assert types == {"pairwise", "rating", "choice", "text"}


@pytest.mark.parametrize("path", EXAMPLE_SPECS, ids=lambda p: p.parent.name)
def test_every_example_spec_validates(path: Path) -> None:
    spec = load_project_spec(path)
    assert spec.name == path.parent.name
    assert len(spec.instructions) > 500  # the instructions file was found and read


# --------------------------------------------------------------------------- property

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.decimals(allow_nan=True),
)
_keys = st.sampled_from(
    [
        "name",
        "title",
        "task",
        "type",
        "fields",
        "scale",
        "min",
        "max",
        "labels",
        "options",
        "multiple",
        "min_chars",
        "max_chars",
        "rationale",
        "instructions",
        "overlap",
        "gold_share",
        "lease_minutes",
        "pay",
        "per_task",
        "currency",
        "skills",
        "qualification",
        "min_gold_answered",
        "researchers",
        "clarifications",
        "escalation",
        "priority",
        "max_share",
        "max_overlap",
    ]
) | st.text(max_size=8)
_junk = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(_keys | st.integers(), children, max_size=6)
    ),
    max_leaves=25,
)
_task = st.fixed_dictionaries(
    {"type": st.sampled_from(["pairwise", "rating", "choice", "text", "other"]) | _scalars},
    optional={
        "fields": _junk,
        "scale": _junk,
        "options": _junk,
        "min_chars": _junk,
        "max_chars": _junk,
        "rationale": _junk,
        "multiple": _junk,
    },
)
_near_specs = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=12) | _scalars,
        "title": _junk,
        "task": _task | _junk,
        "instructions": st.text(max_size=40) | _scalars,
        "overlap": _junk,
        "max_overlap": _junk,
        "gold_share": _junk,
        "pay": _junk,
        "researchers": _junk,
        "qualification": _junk,
        "clarifications": _junk,
        "escalation": _junk,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=_junk | _near_specs)
def test_junk_never_crashes_the_parser(raw: Any) -> None:
    try:
        spec = parse_project_spec(raw)
    except InvalidInput as exc:
        assert exc.problems or exc.summary
    else:
        assert isinstance(spec, ProjectSpec)


def test_a_clarifications_home_needs_its_channel() -> None:
    problems = problems_of(valid_spec(clarifications={"home": "discord", "slack_channel": "C0Q"}))
    assert any("home is discord, but no discord_channel" in p for p in problems), problems
    spec = parse_project_spec(
        valid_spec(clarifications={"home": "slack", "slack_channel": "C0Q", "discord_channel": 42})
    )
    assert spec.clarifications.home == "slack"
