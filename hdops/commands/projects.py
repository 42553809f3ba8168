"""Researcher/ops project commands: status, pause, resume."""

from __future__ import annotations

from datetime import timedelta

from hdops.chat import FieldPart, Heading, Message, Part, Reply
from hdops.commands import Invocation, command
from hdops.domain.reports import eta_text
from hdops.domain.weeks import IsoWeek
from hdops.errors import InvalidInput
from hdops.render.distribution import spread_parts
from hdops.render.quality_digest import gold_text
from hdops.services import dispatch, distribution, reports, scope
from hdops.services import projects as project_service
from hdops.services.quality import project_quality
from hdops.store import projects as projects_q
from hdops.store.orm import Project


def _name(inv: Invocation, usage: str) -> str:
    if len(inv.args) != 1:
        raise InvalidInput(f"Usage: /hdops {usage}")
    return inv.args[0]


@command(
    "project status",
    roles=("researcher", "ops"),
    usage="project status NAME",
    summary="progress, answers, open questions, answers per contractor and their spread",
)
def status(inv: Invocation) -> Reply:
    project = project_service.get_project(inv.session, _name(inv, "project status NAME"))
    scope.require_lead(inv.session, inv.person, project, "see its status")
    summary = project_service.project_summary(inv.session, project)
    tz = inv.settings.ops_tz
    overall = distribution.distribution(inv.session, project)
    week = IsoWeek.containing(inv.now, tz)
    this_week = distribution.distribution(inv.session, project, week=week, tz=tz)
    parts: list[Part] = [
        Heading(text=f"{project.title} ({project.name}) — {project.status}"),
        FieldPart(label="Items done", value=f"{summary['items_done']}/{summary['items']}"),
        FieldPart(label="Answers", value=str(summary["answers"])),
        FieldPart(label="Open questions", value=str(summary["open_clarifications"])),
        FieldPart(label="Instructions", value=f"v{summary['instruction_version']}"),
    ]
    parts += _quality_parts(inv, project, flagged=int(summary["flagged"]))
    parts += spread_parts(overall, this_week)
    return Reply(message=Message(text=f"Status of {project.name}", parts=parts))


def _quality_parts(inv: Invocation, project: Project, *, flagged: int) -> list[Part]:
    """Can the labels be used, and when will they be done: alpha, gold, ETA, and
    how many answers wait for review (counted in the summary, not loaded)."""
    figures = reports.project_figures(inv.session, project.name)
    try:
        quality = project_quality(inv.session, project.name) if figures.answers else None
    except InvalidInput:
        quality = None
    alpha = quality.agreement.primary if quality is not None else None
    needed, recent = projects_q.pace(inv.session, project.id, inv.now - timedelta(hours=24))
    return [
        FieldPart(label="Agreement (alpha)", value="-" if alpha is None else f"{alpha:.2f}"),
        FieldPart(label="Gold accuracy", value=gold_text(figures, quality)),
        FieldPart(label="Finishes", value=eta_text(needed, recent / 24)),
        FieldPart(
            label="Flagged for review",
            value=f"{flagged} (hdops review {project.name})",
        ),
    ]


def _set_status(inv: Invocation, status: str, usage: str) -> tuple[str, bool]:
    project = project_service.get_project(inv.session, _name(inv, usage))
    scope.require_lead(inv.session, inv.person, project, f"{usage.split()[1]} it")
    return project.name, project_service.set_status(inv.session, project, status, inv.person.id)


@command(
    "project pause",
    roles=("researcher", "ops"),
    usage="project pause NAME",
    summary="stop handing out tasks of a project",
)
def pause(inv: Invocation) -> Reply:
    name, changed = _set_status(inv, "paused", "project pause NAME")
    if not changed:
        return Reply.say(f"Project {name} was already paused.")
    return Reply.say(f"Project {name} paused: no new tasks are handed out.")


@command(
    "project resume",
    roles=("researcher", "ops"),
    usage="project resume NAME",
    summary="hand out tasks of a project again",
)
def resume(inv: Invocation) -> Reply:
    name, changed = _set_status(inv, "active", "project resume NAME")
    if not changed:
        return Reply.say(f"Project {name} is already active.")
    # Contractors who were waiting for work get it now, fewest answers first.
    offered = dispatch.push_tasks(inv.session, inv.now)
    return Reply.say(f"Project {name} resumed; {offered} waiting contractor(s) got a task.")
