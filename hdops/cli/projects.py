"""`hdops project create|update|show|list|pause|resume` (SPEC §2); `show` also
prints the spread of the project's work (SPEC §6b), all time and for one week."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from hdops.cli.common import echo_json, handle_errors, open_store, out, settings
from hdops.clock import utcnow
from hdops.domain.distribution import Distribution, spread_words
from hdops.domain.money import format_rate
from hdops.domain.projects import load_project_spec
from hdops.domain.weeks import parse_week
from hdops.services import distribution
from hdops.services import projects as svc

app = typer.Typer(help="Projects: create and update them from a YAML spec.", no_args_is_help=True)

SPEC_ARG = typer.Argument(..., help="Path to the project's YAML spec.", show_default=False)
NAME_ARG = typer.Argument(..., help="Project name (slug).", show_default=False)
JSON_OPT = typer.Option(False, "--json", help="Print JSON for scripts.")


@app.command("create")
@handle_errors
def create_cmd(spec_file: Path = SPEC_ARG) -> None:
    """Create a project from SPEC_FILE. An invalid spec is refused with every problem."""
    spec = load_project_spec(spec_file)  # validate before touching the database
    store = open_store()
    try:
        with store.unit_of_work() as session:
            project = svc.create_project(session, spec)
            name, title = project.name, project.title
    finally:
        store.dispose()
    out.print(f"created project {name} ({title}), instructions version 1", markup=False)


@app.command("update")
@handle_errors
def update_cmd(spec_file: Path = SPEC_ARG) -> None:
    """Apply a changed SPEC_FILE to the project it names.

    Changed instructions become a new instruction version; its summary is printed."""
    spec = load_project_spec(spec_file)
    store = open_store()
    try:
        with store.unit_of_work() as session:
            project, change = svc.update_project(session, spec)
            name = project.name
    finally:
        store.dispose()
    if change is None:
        out.print(f"updated project {name}; instructions unchanged", markup=False)
    else:
        out.print(f"updated project {name}; instructions version {change.version}", markup=False)
        for line in change.summary.splitlines():
            out.print(f"  {line}", markup=False)


def _spread_json(d: Distribution) -> dict[str, Any]:
    s = d.spread
    return {
        "week": d.week,
        "contractors": s.people,
        "answers": s.answers,
        "gini": round(s.gini, 4),
        "top_count": s.top_count,
        "top_answers": s.top_answers,
        "top_share": round(s.top_share, 4),
        "answers_per_contractor": [{"name": c.label, "answers": c.answers} for c in d.contractors],
    }


@app.command("show")
@handle_errors
def show_cmd(
    name: str = NAME_ARG,
    as_json: bool = JSON_OPT,
    week: str | None = typer.Option(
        None,
        "--week",
        help="The week whose spread of work is shown beside all time: this (default), "
        "last or YYYY-Www (ops timezone).",
        show_default=False,
    ),
) -> None:
    """Show a project's status, items, answers, instruction version and the spread
    of its work (answers per contractor, Gini, top-20% share)."""
    cfg = settings()
    wanted = parse_week(week, utcnow(), cfg.ops_tz, default="this")
    store = open_store()
    try:
        with store.unit_of_work() as session:
            project = svc.get_project(session, name)
            summary = svc.project_summary(session, project)
            overall = distribution.distribution(session, project)
            weekly = distribution.distribution(session, project, week=wanted, tz=cfg.ops_tz)
    finally:
        store.dispose()
    if as_json:
        echo_json(
            {
                **summary,
                "distribution": {"all_time": _spread_json(overall), "week": _spread_json(weekly)},
            }
        )
        return
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    pay = summary["pay"]
    rows = [
        ("name", summary["name"]),
        ("title", summary["title"]),
        ("status", summary["status"]),
        ("task type", summary["task_type"]),
        (
            "items",
            f"{summary['items']} ({summary['gold_items']} gold, {summary['items_done']} done)",
        ),
        ("answers", f"{summary['answers']} ({summary['flagged']} flagged for review)"),
        ("open questions", str(summary["open_clarifications"])),
        ("instructions", f"version {summary['instruction_version']}"),
        ("overlap", str(summary["overlap"])),
        ("priority", str(summary["priority"])),
        (
            "pay",
            f"{format_rate(Decimal(pay['per_task']), pay['currency'])} {pay['currency']} per task",
        ),
        ("spread", spread_words(overall.spread)),
        (f"spread {weekly.week}", spread_words(weekly.spread)),
    ]
    for key, value in rows:
        table.add_row(key, str(value))
    out.print(table)


@app.command("list")
@handle_errors
def list_cmd(as_json: bool = JSON_OPT) -> None:
    """List projects, highest priority first (titles: `project show` or --json)."""
    store = open_store()
    try:
        with store.unit_of_work() as session:
            summaries = [svc.project_summary(session, p) for p in svc.list_projects(session)]
    finally:
        store.dispose()
    if as_json:
        echo_json(summaries)
        return
    if not summaries:
        out.print("no projects yet: hdops project create SPEC.yaml", markup=False)
        return
    table = Table()
    table.add_column("name", no_wrap=True)
    for header in ("type", "status", "items", "answers", "instr.", "prio"):
        table.add_column(header, no_wrap=True)
    for s in summaries:
        table.add_row(
            s["name"],
            s["task_type"],
            s["status"],
            str(s["items"]),
            str(s["answers"]),
            f"v{s['instruction_version']}",
            str(s["priority"]),
        )
    out.print(table)


def _set_status(name: str, status: str) -> None:
    store = open_store()
    try:
        with store.unit_of_work() as session:
            changed = svc.set_status(session, svc.get_project(session, name), status, None)
    finally:
        store.dispose()
    if changed:
        out.print(f"project {name} is now {status}", markup=False)
    else:
        out.print(f"project {name} was already {status}", markup=False)


@app.command("pause")
@handle_errors
def pause_cmd(name: str = NAME_ARG) -> None:
    """Pause a project: its tasks are no longer offered to contractors."""
    _set_status(name, "paused")


@app.command("resume")
@handle_errors
def resume_cmd(name: str = NAME_ARG) -> None:
    """Resume a paused project: its tasks are offered again."""
    _set_status(name, "active")
