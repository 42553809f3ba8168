"""Who acts on payouts, and what they may do.

Changes when who may manage payouts, or what the audit log records about them,
changes: chat and `--as PERSON` act as a person (who must hold ops), the CLI
without `--as` as the operating-system user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hdops.services import audit
from hdops.services.people import get_person, require_role
from hdops.store.orm import Person


@dataclass(frozen=True)
class Actor:
    """Who does a payout action, for the audit log: a person (chat, `--as`), or the
    operating-system user running the CLI."""

    person: Person | None
    via: str  # chat | cli | job

    @property
    def person_id(self) -> int | None:
        return self.person.id if self.person is not None else None

    @property
    def label(self) -> str:
        if self.person is not None:
            return self.person.display_name
        return f"{self.via}:{audit.os_user()}"

    def audit_details(self) -> dict[str, Any]:
        details: dict[str, Any] = {"via": self.via}
        if self.person is None:
            details["os_user"] = audit.os_user()
        return details


def cli_actor(session: Session, as_person: str | None) -> Actor:
    """The CLI's actor: `--as PERSON` (must hold ops), else the OS user."""
    if as_person is None:
        return Actor(None, "cli")
    person = get_person(session, as_person)
    require_role(session, person, "ops", action="manage payouts")
    return Actor(person, "cli")


def require_ops(session: Session, actor: Actor, action: str) -> None:
    """Refuse a person without the ops role; the OS user (CLI without `--as`) may."""
    if actor.person is not None:
        require_role(session, actor.person, "ops", action=action)
