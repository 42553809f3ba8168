"""The periodic sweep: work that falls due with time rather than with a click.

Leases run out, unanswered questions escalate, idle check-ins close, and idle
available contractors are offered work. The scheduler runs it every 30 s
(`schedules.jobs.sweep`); the terminal and `Core.sweep` call the same function.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hdops.config import Settings
from hdops.services import checkins, clarifications, dispatch


def sweep(session: Session, settings: Settings, now: datetime) -> dict[str, int]:
    """Run every periodic duty once in `session`; how many of each were done."""
    expired = dispatch.expire_leases(session, now)
    escalated = len(clarifications.due_escalations(session, now))
    closed = checkins.close_idle_check_ins(session, settings, now)
    pushed = dispatch.push_tasks(session, now)
    return {"expired": expired, "escalated": escalated, "closed": closed, "pushed": pushed}
