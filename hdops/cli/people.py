"""`hdops person add|list`, `hdops role grant|revoke`, `hdops tz` (SPEC §1)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import typer
from rich import box
from rich.table import Table

from hdops.cli.common import echo_json, handle_errors, open_store, out
from hdops.render import roles as role_render
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


def money_text(value: Decimal | None) -> str:
    """An amount for people: 18.5000 -> 18.50, 12.3750 -> 12.375."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _person_json(v: svc.PersonView) -> dict[str, Any]:
    return {
        "name": v.name,
        "display_name": v.display_name,
        "identities": list(v.identities),
        "roles": list(v.roles),
        "tz": v.tz,
        "skills": list(v.skills),
        "hourly_rate": money_text(v.hourly_rate) or None,
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
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("name", no_wrap=True)
    table.add_column("identities", no_wrap=True)  # ids are copied from here: keep them whole
    table.add_column("roles", no_wrap=True)
    table.add_column("tz", no_wrap=True)
    table.add_column("skills", min_width=6, overflow="fold")
    table.add_column("rate", no_wrap=True, justify="right")
    for v in views:
        table.add_row(
            v.name,
            "\n".join(v.identities),
            "\n".join(v.roles),
            v.tz or "",
            "\n".join(v.skills),
            money_text(v.hourly_rate),
        )
    out.print(table)


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
