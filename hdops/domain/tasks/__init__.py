"""Task types: one module per type (pairwise, rating, choice, text)."""

from hdops.domain.tasks.base import TaskSettings, TaskType
from hdops.domain.tasks.registry import TASK_TYPES, get_task_type, parse_task_settings

__all__ = ["TASK_TYPES", "TaskSettings", "TaskType", "get_task_type", "parse_task_settings"]
