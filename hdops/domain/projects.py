"""Project specs (SPEC §2): the YAML a researcher writes, validated with paths.

`parse_project_spec` reports *every* problem at once (`task.scale.max: must be
greater than min`, `overlap: …`) so a researcher fixes a spec in one round.
Validation runs in three passes whose problems are merged: the common fields,
the task block against its task type's own settings model, and cross-field rules.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from hdops.domain.money import parse_decimal
from hdops.domain.people import parse_identity
from hdops.domain.spec_yaml import YamlFloat, load_spec_yaml
from hdops.domain.tasks.base import TaskSettings
from hdops.domain.tasks.registry import TASK_TYPES
from hdops.domain.validation import MAX_NESTING, dedupe, problems_from, too_deep
from hdops.errors import HdopsError, InvalidInput
from hdops.files import check_input_file

SLUG_RE = re.compile(r"^[a-z0-9-]{2,40}$")
MAX_INSTRUCTIONS_CHARS = 100_000
# A spec is a page of YAML (instructions of up to MAX_INSTRUCTIONS_CHARS may be
# inline). Anything larger is refused before it is parsed: 100k keys took PyYAML
# 6 s to read, only to be refused key by key.
MAX_SPEC_BYTES = 512 * 1024


class Pay(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    per_task: Decimal = Decimal("0")
    currency: str = "USD"

    @field_validator("per_task", mode="before")
    @classmethod
    def _exact(cls, value: Any) -> Any:
        if isinstance(value, YamlFloat):
            value = value.text  # YAML 0.40 is read as written, never via a binary float
        elif isinstance(value, float):
            value = repr(value)
        if isinstance(value, str | int) and not isinstance(value, bool):
            try:
                value = parse_decimal(value, "per_task")
            except InvalidInput:
                raise ValueError(
                    'must be a decimal amount such as "0.40" (digits 0-9, at most 4 decimals)'
                ) from None
        return value

    @field_validator("per_task")
    @classmethod
    def _range(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value < 0:
            raise ValueError("must be zero or more")
        if value.as_tuple().exponent < -4:  # type: ignore[operator]
            raise ValueError("at most 4 decimal places")
        if value > Decimal("100000"):
            raise ValueError("is implausibly large")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError("must be a 3-letter ISO currency code such as USD")
        return value


class Qualification(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_gold_accuracy: float = Field(0.0, ge=0, le=1)
    min_gold_answered: int = Field(0, ge=0, le=10_000)


class ClarificationChannels(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slack_channel: str | None = Field(None, pattern=r"^[CG][A-Z0-9]{2,20}$")
    discord_channel: str | None = Field(None, pattern=r"^[0-9]{1,20}$")
    console_channel: str | None = Field(None, pattern=r"^[a-z0-9-]{1,40}$")
    # Where questions are posted when the project has channels on several platforms
    # (researchers answer in one place; replies reach each contractor on their own
    # platform). Unset: the first platform a running bot serves (Slack first).
    home: Literal["slack", "discord", "console"] | None = None

    @field_validator("discord_channel", mode="before")
    @classmethod
    def _int_to_str(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @model_validator(mode="after")
    def _home_has_a_channel(self) -> ClarificationChannels:
        if self.home is not None and getattr(self, f"{self.home}_channel") is None:
            raise ValueError(f"home is {self.home}, but no {self.home}_channel is given")
        return self


class Escalation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    after_minutes: int = Field(30, ge=1, le=10_080)
    repeat_minutes: int = Field(60, ge=1, le=10_080)


class ProjectSpec(BaseModel):
    """A validated project spec. `task` holds the task type's own settings model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    title: str = Field(min_length=1, max_length=200)
    task: TaskSettings
    instructions: str = Field("", max_length=MAX_INSTRUCTIONS_CHARS)
    overlap: int = Field(1, ge=1, le=20)
    gold_share: float = Field(0.0, ge=0, le=1)
    lease_minutes: int = Field(20, ge=1, le=1440)
    pay: Pay = Field(default_factory=Pay)
    skills: list[str] = Field(default_factory=list)
    qualification: Qualification | None = None
    researchers: list[str] = Field(default_factory=list)
    clarifications: ClarificationChannels = Field(default_factory=ClarificationChannels)
    escalation: Escalation = Field(default_factory=Escalation)
    priority: int = Field(0, ge=-1000, le=1000)
    max_share: float | None = Field(None, gt=0, le=1)
    max_overlap: int | None = Field(None, ge=1, le=20)

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG_RE.match(value):
            raise ValueError("must be 2-40 characters of a-z, 0-9 and '-'")
        return value

    @field_validator("researchers")
    @classmethod
    def _identities(cls, value: list[str]) -> list[str]:
        out = []
        for i, text in enumerate(value):
            try:
                out.append(str(parse_identity(str(text))))
            except HdopsError as exc:
                raise ValueError(f"[{i}] {exc.message}") from None
        return out

    @field_validator("skills")
    @classmethod
    def _skills(cls, value: list[str]) -> list[str]:
        if any(not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", s) for s in value):
            raise ValueError("skills are lowercase words (a-z, 0-9, '_', '-')")
        return sorted(set(value))

    @property
    def effective_max_overlap(self) -> int:
        return self.max_overlap if self.max_overlap is not None else self.overlap

    def to_json(self) -> dict[str, Any]:
        """The spec as stored with the project (instructions live in versions)."""
        data = self.model_dump(mode="json", exclude={"instructions"})
        data["task"] = self.task.model_dump(mode="json")
        return data


class _SpecShape(ProjectSpec):
    """Pass one: every field except the task block, which pass two checks."""

    task: Any = None


def resolve_instructions(value: Any, base_dir: Path | None) -> tuple[str, list[str]]:
    """`instructions:` is a path relative to the spec file, or inline markdown.

    The file must lie inside the spec's folder (after following symlinks): the text
    is shown to every contractor on the project, so a spec must not be able to
    publish `../secrets.md` or `/etc/…`. A spec that is not read from a file
    (`base_dir` None) has no folder, so it may hold only inline text.
    """
    if value is None:
        return "", []
    if not isinstance(value, str):
        return "", ["instructions: must be a file path or markdown text"]
    text = value
    looks_like_path = "\n" not in text and re.search(r"\.(md|markdown|txt)$", text.strip())
    if looks_like_path:
        name = text.strip()
        path, problem = _inside(base_dir, name)
        if path is None:
            return "", [f"instructions: {problem}"]
        try:
            # Read no more than the longest allowed text can take (4 bytes a
            # character): a huge file is refused without being read whole.
            with path.open("rb") as handle:
                data = handle.read(4 * MAX_INSTRUCTIONS_CHARS + 1)
            if len(data) > 4 * MAX_INSTRUCTIONS_CHARS:
                return "", [f"instructions: at most {MAX_INSTRUCTIONS_CHARS} characters"]
            # As reading in text mode would: universal newlines.
            text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        except FileNotFoundError:
            return "", [f"instructions: file not found: {name}"]
        except (OSError, UnicodeDecodeError) as exc:
            return "", [f"instructions: cannot read {name}: {exc.__class__.__name__}"]
    if len(text) > MAX_INSTRUCTIONS_CHARS:
        return "", [f"instructions: at most {MAX_INSTRUCTIONS_CHARS} characters"]
    return text, []


def _inside(base_dir: Path | None, name: str) -> tuple[Path | None, str]:
    """`base_dir/name` if it resolves to a file inside `base_dir`, else why not."""
    if base_dir is None:
        return None, f"{name} is a file path, but this spec was not read from a file"
    if Path(name).is_absolute():
        return None, f"{name} must be a path relative to the spec's folder"
    root = base_dir.resolve()
    try:
        path = (root / name).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None, f"cannot read {name}"
    if not path.is_relative_to(root):
        return None, f"{name} is outside the spec's folder"
    return path, ""


def parse_project_spec(raw: Any, base_dir: Path | None = None) -> ProjectSpec:
    """Validate a spec mapping. Raises `InvalidInput` listing every problem."""
    if not isinstance(raw, dict):
        raise InvalidInput("The project spec must be a YAML mapping.")
    raw = dict(raw)
    problems: list[str] = []

    instructions, more = resolve_instructions(raw.get("instructions"), base_dir)
    problems += more
    raw["instructions"] = instructions

    try:
        _SpecShape.model_validate(raw)
    except ValidationError as exc:
        problems += [p for p in problems_from(exc) if not p.startswith("task")]

    task_raw = raw.get("task")
    settings: TaskSettings | None = None
    if not isinstance(task_raw, dict):
        problems.append("task: required (a mapping with type and fields)")
    else:
        kind = task_raw.get("type")
        if not isinstance(kind, str) or kind not in TASK_TYPES:
            problems.append(
                f"task.type: unknown task type {kind!r} (choose {', '.join(sorted(TASK_TYPES))})"
            )
        else:
            try:
                settings = TASK_TYPES[str(kind)].parse_settings(task_raw)
            except ValidationError as exc:
                problems += problems_from(exc, ("task",))

    # Pass three: rules across fields, checked when their inputs are themselves valid.
    overlap, max_overlap = raw.get("overlap", 1), raw.get("max_overlap")
    if isinstance(overlap, int) and isinstance(max_overlap, int) and max_overlap < overlap:
        problems.append("max_overlap: must not be less than overlap")
    qual = raw.get("qualification")
    if isinstance(qual, dict) and qual.get("min_gold_answered", 0) and not raw.get("gold_share"):
        problems.append("qualification: needs gold items mixed in (gold_share > 0)")

    if problems or settings is None:
        raise InvalidInput("The project spec is not valid:", dedupe(problems))
    raw["task"] = settings
    return ProjectSpec.model_validate(raw)


def load_project_spec(path: Path) -> ProjectSpec:
    """Read and validate a YAML spec file."""
    check_input_file(path, "spec file")
    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise InvalidInput(
                f"{path} is larger than {MAX_SPEC_BYTES // 1024} KB; a project spec is a page "
                "of YAML (long instructions belong in their own file)"
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"spec file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"cannot read {path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
            f"offset {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.__class__.__name__}") from None
    try:
        raw = load_spec_yaml(text)
    except RecursionError:
        raw = None
        deep = True
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or getattr(exc, "reason", None)
        what = f": {' '.join(str(problem).split())[:120]}" if problem else ""
        raise InvalidInput(f"{path} is not valid YAML{where}{what}") from None
    else:
        deep = too_deep(raw)
    if deep:
        raise InvalidInput(f"{path} nests lists or mappings more than {MAX_NESTING} levels deep")
    return parse_project_spec(raw, path.parent)
