"""Why a contractor gets no task (SPEC §5): one reason per project, or one for them.

Dispatch collects these as it passes over the projects (`hdops.services.dispatch`),
so what a contractor is told is exactly what kept each project from giving them
work; `hdops.render.no_task` words it. Pure data, no database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

# Per project (active projects in the order dispatch tries them, then paused ones):
#   paused     ops paused the project
#   skills     it needs skills the contractor's profile lacks
#   failed     their gold accuracy is under the project's bar (they get only
#              check items there, and none is left for them)
#   no_gold    still being screened, and no check item is left for them
#   share      they hold the most of its answers one person may (max_share)
#   even       its work is scarce and they are ahead of the others working on it
#              this week: those with fewer answers go first (the even-share rule)
#   held       items still need answers, but other contractors hold them now
#   done       nothing left that they have not had
#   no_items   `held` or `done`, before `dispatch` tells them apart (it costs a
#              count, paid only when the contractor ends up with no task at all)
Kind = Literal["paused", "skills", "failed", "no_gold", "share", "even", "held", "done", "no_items"]


@dataclass(frozen=True)
class Blocked:
    """What keeps one project from giving this contractor a task."""

    project_id: int
    project_title: str
    kind: Kind
    missing_skills: tuple[str, ...] = ()  # skills
    gold_answered: int = 0  # failed, no_gold
    gold_correct: int = 0  # failed
    accuracy_needed: float = 0.0  # failed
    gold_recent: bool = False  # failed: on their latest gold answers, not the whole record
    gold_needed: int = 0  # no_gold
    share_cap: float = 0.0  # share


@dataclass(frozen=True)
class NoTask:
    """Nothing to offer: why, per project (`blocked`), or because their contractor
    profile is not active (`profile_status`), or because they are not taking tasks
    (`unavailable`: paused, or their shift ended). No projects at all: all empty."""

    blocked: tuple[Blocked, ...] = ()
    profile_status: str | None = None
    unavailable: bool = False

    @property
    def key(self) -> str:
        """A fingerprint of the reasons, not of their figures: a push tells the
        contractor why only when this differs from what they were last told, so an
        accuracy or share that moves a little does not message them again."""
        if self.profile_status is not None:
            text = f"profile:{self.profile_status}"
        elif self.unavailable:
            text = "unavailable"
        else:
            text = ",".join(f"{b.project_id}:{b.kind}" for b in self.blocked) or "none"
        return hashlib.sha256(text.encode()).hexdigest()[:32]
