"""Audit log: who did what, when. Written in the same transaction as the change."""

from __future__ import annotations

import getpass
import os
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hdops.clock import utcnow
from hdops.store.orm import AuditEntry


def record(
    session: Session,
    action: str,
    subject: str,
    *,
    actor_id: int | None = None,
    at: datetime | None = None,
    **details: Any,
) -> None:
    session.add(
        AuditEntry(
            at=at or utcnow(),
            actor_id=actor_id,
            action=action,
            subject=subject[:200],
            details=details,
        )
    )


def os_user() -> str:
    """Who runs a CLI command, for the audit log (the CLI has no chat identity)."""
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (containers): still say something
        return os.environ.get("USER", "unknown")


def cli_details() -> dict[str, str]:
    """Audit details of a change made from the CLI without `--as PERSON`."""
    return {"via": "cli", "os_user": os_user()}
