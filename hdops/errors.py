"""Domain errors.

Every error a user can trigger is a `HdopsError` whose `message` is safe to show
to that user as one line. Front ends (CLI, Slack, Discord, local chat) map these
in one place and never show stack traces.
"""

from __future__ import annotations

from collections.abc import Sequence


class HdopsError(Exception):
    """An error with a one-line, user-facing message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(HdopsError):
    """A named thing (person, project, shift…) does not exist."""


class PermissionDenied(HdopsError):
    """The caller lacks the role needed for an action, or what they acted on is not
    theirs (a forged or misrouted button). `actor_id` and `subject` (what was refused,
    e.g. `assignment:12`) let the front door keep the refusal in the audit log after
    the refused transaction is rolled back."""

    def __init__(self, message: str, *, actor_id: int | None = None, subject: str = "") -> None:
        super().__init__(message)
        self.actor_id = actor_id
        self.subject = subject


class Conflict(HdopsError):
    """The action clashes with existing state (duplicate name, clash, locked week)."""


class InvalidInput(HdopsError):
    """Input was malformed. `problems` lists every problem found, each `path: reason`."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems = list(problems)
        full = (
            message
            if not self.problems
            else message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        )
        super().__init__(full)
        self.summary = message


class UnknownControl(InvalidInput):
    """A button or form id that hdops never sent: not in the action-id format, or a
    verb no feature registered. Forged (or from a far older version); the core keeps
    it in the audit log like any other refused interaction."""
