"""The task types hdops knows. A new type is one module plus one entry here."""

from __future__ import annotations

from typing import Any

from hdops.domain.tasks.base import TaskSettings, TaskType
from hdops.domain.tasks.choice import Choice
from hdops.domain.tasks.pairwise import Pairwise
from hdops.domain.tasks.rating import Rating
from hdops.domain.tasks.text import Text
from hdops.errors import NotFound

AnyTaskType = TaskType[Any, Any]

TASK_TYPES: dict[str, AnyTaskType] = {t.name: t for t in (Pairwise(), Rating(), Choice(), Text())}


def get_task_type(name: str) -> AnyTaskType:
    try:
        return TASK_TYPES[name]
    except KeyError:
        raise NotFound(
            f"unknown task type {name!r} (known: {', '.join(sorted(TASK_TYPES))})"
        ) from None


def parse_task_settings(raw: dict[str, Any]) -> TaskSettings:
    settings: TaskSettings = get_task_type(str(raw.get("type"))).parse_settings(raw)
    return settings
