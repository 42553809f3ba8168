"""`hdops person add|update|deactivate|reactivate|list`, `hdops role grant|revoke`,
`hdops tz` (SPEC §1).

Changes made here are audited with the operating-system user who ran the command
(`via: cli`), since the CLI has no chat identity."""

from __future__ import annotations

import textwrap
from typing import Any

import typer
from rich import box
from rich.table import Table

from hdops.cli.common import echo_json, handle_errors, open_store, out, settings
from hdops.clock import utcnow
from hdops.domain.money import format_rate, rate_text
from hdops.render import roles as role_render
from hdops.render.people import change_line
from hdops.render.shifts import when
from hdops.services import audit, deactivation
from hdops.services import people as svc

person_app = typer.Typer(help="People and their platform identities.", no_args_is_help=True)
role_app = typer.Typer(help="Roles: contractor, researcher, ops, admin.", no_args_is_help=True)

PERSON_ARG = typer.Argument(
    ..., help="A person's name or identity (slack:U0123ABC).", show_default=False
)
ROLE_ARG = typer.Argument(..., help="contractor, researcher, ops or admin.", show_default=False)


def identity_arg(platform: str, value: str) -> str:
    """`--slack U123` means `slack:U123`; the prefixed form is accepted as well."""
    value = value.strip()
    prefix = f"{platform}:"
    if value.lower().startswith(prefix):
        value = value[len(prefix) :]
    return prefix + value


def _person_json(v: svc.PersonView) -> dict[str, Any]:
    return {
        "name": v.name,
        "display_name": v.display_name,
        "identities": list(v.identities),
        "roles": list(v.roles),
        "tz": v.tz,
        "skills": list(v.skills),
        "hourly_rate": None if v.hourly_rate is None else rate_text(v.hourly_rate, v.currency),
        "status": v.status,
    }


@person_app.command("add")
@handle_errors
def add_cmd(
    name: str = typer.Argument(..., help="Unique name, e.g. alice.", show_default=False),
    slack: str | None = typer.Option(None, "--slack", help="Slack user id (U0123ABC)."),
    discord: str | None = typer.Option(None, "--discord", help="Discord user id."),
    console: str | None = typer.Option(None, "--console", help="Local chat name."),
    tz: str | None = typer.Option(None, "--tz", help="IANA timezone, e.g. Europe/London."),
    role: list[str] = typer.Option([], "--role", help="Role to grant; repeat for several."),
    hourly_rate: str | None = typer.Option(
        None, "--hourly-rate", help="Hourly rate for checked-in time, e.g. 18.50."
    ),
    currency: str = typer.Option("USD", "--currency", help="Currency of the hourly rate."),
    skills: str | None = typer.Option(None, "--skills", help="Comma-separated skills."),
    display_name: str | None = typer.Option(
        None, "--display-name", help="Name shown in chat (default: NAME)."
    ),
) -> None:
    """Add a person with their identities, roles and (for contractors) rate and skills."""
    identities = [
        identity_arg(platform, value)
        for platform, value in (("slack", slack), ("discord", discord), ("console", console))
        if value
    ]
    store = open_store()
    try:
        with store.unit_of_work() as session:
            person = svc.add_person(
                session,
                name,
                identities=identities,
                tz=tz,
                roles=role,
                hourly_rate=hourly_rate,
                currency=currency,
                skills=skills,
                display_name=display_name,
            )
            v = svc.view(person)
    finally:
        store.dispose()
    ids = ", ".join(v.identities) or "no identities"
    roles = ", ".join(v.roles) or "no roles"
    out.print(f"added {v.name} ({ids}; {roles})", markup=False)


@person_app.command("update")
@handle_errors
def update_cmd(
    person: str = PERSON_ARG,
    add_slack: list[str] = typer.Option([], "--add-slack", help="Add a Slack user id (U0123ABC)."),
    add_discord: list[str] = typer.Option([], "--add-discord", help="Add a Discord user id."),
    add_console: list[str] = typer.Option([], "--add-console", help="Add a local chat name."),
    remove_identity: list[str] = typer.Option(
        [], "--remove-identity", help="Remove an identity, e.g. slack:U0123ABC (not the last)."
    ),
    skills: str | None = typer.Option(
        None, "--skills", help="Comma-separated skills, replacing the current ones ('' clears)."
    ),
    hourly_rate: str | None = typer.Option(
        None,
        "--hourly-rate",
        help="Hourly rate from now on, e.g. 18.50 (earlier time keeps its rate).",
    ),
    currency: str | None = typer.Option(None, "--currency", help="Currency of the hourly rate."),
    tz: str | None = typer.Option(None, "--tz", help="IANA timezone, e.g. Europe/London."),
    display_name: str | None = typer.Option(None, "--display-name", help="Name shown in chat."),
) -> None:
    """Change PERSON's identities, skills, hourly rate, currency, timezone or display name.

    All changes are made together or not at all, and each is audited. Repeat
    --add-… and --remove-identity for several."""
    changes = svc.PersonChanges(
        add_identities=[
            *(identity_arg("slack", v) for v in add_slack),
            *(identity_arg("discord", v) for v in add_discord),
            *(identity_arg("console", v) for v in add_console),
        ],
        remove_identities=remove_identity,
        skills=skills,
        hourly_rate=hourly_rate,
        currency=currency,
        tz=tz,
        display_name=display_name,
    )
    store = open_store()
    try:
        with store.unit_of_work() as session:
            found, done = svc.update_person(session, person, changes, details=audit.cli_details())
            name = found.name
    finally:
        store.dispose()
    if not done:
        out.print(f"{name}: nothing to change, already so", markup=False)
        return
    out.print(f"updated {name}:", markup=False)
    for change in done:
        out.print(f"  {change_line(change)}", markup=False)


@person_app.command("deactivate")
@handle_errors
def deactivate_cmd(person: str = PERSON_ARG) -> None:
    """End PERSON's work: no more tasks, shifts or reminders; history and pay are kept.

    Their open tasks go back to the pool, shifts not started are cancelled (they
    are told), a shift in progress ends now and an open check-in is closed.
    Roles stay until revoked (hdops role revoke). Undo: hdops person reactivate."""
    cfg = settings()
    store = open_store()
    try:
        with store.unit_of_work() as session:
            result = deactivation.deactivate_person(
                session, person, settings=cfg, now=utcnow(), details=audit.cli_details()
            )
    finally:
        store.dispose()
    name = result.name
    if result.already:
        out.print(f"{name} is already deactivated", markup=False)
        return
    lines = [f"deactivated {name}: no more tasks, shifts or reminders; history and pay kept"]
    if result.withdrawn:
        lines.append(f"  {result.withdrawn} open task(s) went back to the pool")
    for v in result.cancelled:
        lines.append(f"  cancelled shift #{v.id}, {when(v, cfg.ops_zone)} ({name} was told)")
    for v in result.ended:
        lines.append(f"  shift #{v.id} in progress ended now")
    if result.checked_out:
        lines.append("  their open check-in was closed now")
    if result.swaps_withdrawn:
        lines.append(f"  {result.swaps_withdrawn} swap request(s) to them withdrawn (owners told)")
    if result.roles:
        roles = ", ".join(result.roles)
        lines.append(f"  roles kept: {roles} (hdops role revoke {name} ROLE takes one away)")
    for line in lines:
        out.print(line, markup=False)


@person_app.command("reactivate")
@handle_errors
def reactivate_cmd(person: str = PERSON_ARG) -> None:
    """Undo `person deactivate`: PERSON may get tasks and shifts again (cancelled
    shifts stay cancelled)."""
    store = open_store()
    try:
        with store.unit_of_work() as session:
            name, changed = deactivation.reactivate_person(
                session, person, now=utcnow(), details=audit.cli_details()
            )
    finally:
        store.dispose()
    out.print(f"{name} is active again" if changed else f"{name} is already active", markup=False)


@person_app.command("list")
@handle_errors
def list_cmd(
    role: str | None = typer.Option(None, "--role", help="Only people holding this role."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List people with their identities, roles, timezone, skills and rate."""
    store = open_store()
    try:
        with store.unit_of_work() as session:
            views = [svc.view(p) for p in svc.list_people(session, role)]
    finally:
        store.dispose()
    if as_json:
        echo_json([_person_json(v) for v in views])
        return
    if not views:
        out.print(
            "nobody yet: hdops person add NAME --slack U0123ABC --role contractor", markup=False
        )
        return
    _print_people(views)


PEOPLE_COLUMNS = ("name", "identities", "roles", "tz", "skills", "rate")


def _rate(v: svc.PersonView) -> str:
    if v.hourly_rate is None:
        return ""
    return f"{format_rate(v.hourly_rate, v.currency)} {v.currency}"


def _people_rows(views: list[svc.PersonView]) -> list[tuple[str, ...]]:
    return [
        (
            v.name if v.status != svc.INACTIVE else f"{v.name} (inactive)",
            "\n".join(v.identities),
            "\n".join(v.roles),
            v.tz or "",
            "\n".join(v.skills),
            ""
            if v.hourly_rate is None
            else f"{format_rate(v.hourly_rate, v.currency)} {v.currency}",
        )
        for v in views
    ]


def _print_people(views: list[svc.PersonView]) -> None:
    """A table when it fits the terminal; otherwise one block per person. Either
    way no word is ever cut or broken across lines: identities are copied from
    here, and a name, zone or skill split in two reads as two."""
    rows = _people_rows(views)
    table = Table(box=box.SIMPLE_HEAD)
    for column in PEOPLE_COLUMNS:
        table.add_column(column, no_wrap=True, justify="right" if column == "rate" else "left")
    for row in rows:
        table.add_row(*row)
    natural = out.measure(table, options=out.options.update_width(10_000)).maximum
    if natural <= out.width:
        out.print(table)
        return
    width = max(out.width, 20)
    for index, row in enumerate(rows):
        if index:
            out.print()
        out.print(row[0], markup=False)
        for label, value in zip(PEOPLE_COLUMNS[1:], row[1:], strict=True):
            if not value:
                continue
            text = f"{label}: " + ", ".join(value.split("\n"))
            wrapped = textwrap.wrap(
                text,
                width=width,
                initial_indent="  ",
                subsequent_indent="    ",
                break_long_words=False,
                break_on_hyphens=False,
            )
            for line in wrapped:
                out.print(line, markup=False, overflow="ignore", crop=False)


@role_app.command("grant")
@handle_errors
def grant_cmd(person: str = PERSON_ARG, role: str = ROLE_ARG) -> None:
    """Grant ROLE to PERSON."""
    store = open_store()
    try:
        with store.unit_of_work() as session:
            name = svc.get_person(session, person).name
            changed = svc.grant_role(session, person, role)
    finally:
        store.dispose()
    out.print(role_render.role_granted(name, role, changed), markup=False)


@role_app.command("revoke")
@handle_errors
def revoke_cmd(person: str = PERSON_ARG, role: str = ROLE_ARG) -> None:
    """Take ROLE away from PERSON."""
    store = open_store()
    try:
        with store.unit_of_work() as session:
            name = svc.get_person(session, person).name
            changed = svc.revoke_role(session, person, role)
    finally:
        store.dispose()
    out.print(role_render.role_revoked(name, role, changed), markup=False)


@handle_errors
def tz_cmd(
    person: str = PERSON_ARG,
    tz: str = typer.Argument(..., help="IANA timezone, e.g. Europe/London.", show_default=False),
) -> None:
    """Set PERSON's timezone (times they enter and see are in it)."""
    store = open_store()
    try:
        with store.unit_of_work() as session:
            p = svc.get_person(session, person)
            svc.set_timezone(session, p, tz)
            name = p.name
    finally:
        store.dispose()
    out.print(f"{name}'s timezone is now {tz}", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(person_app, name="person")
    app.add_typer(role_app, name="role")
    app.command("tz")(tz_cmd)
