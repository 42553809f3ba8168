"""Who may act on, or see, one project: roles narrowed to the project's people.

A role says what kind of thing a person may do; the project says where. Ops and
admins act on every project. A researcher acts on the projects whose spec lists
one of their identities under `researchers:` — a researcher of another team must
not pause, resume, resolve or answer for a project that is not theirs. A
contractor sees a project's instructions once they have been given one of its
tasks. Every id that arrives from chat (a button's instruction version or
question number, a command's project name) goes through one of these checks
after it is looked up, so a crafted id reaches nothing its sender could not
reach by the buttons they were sent.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from hdops.errors import PermissionDenied
from hdops.services.people import roles_of
from hdops.services.projects import list_projects
from hdops.store.items import was_given_a_task
from hdops.store.orm import Person, Project

EVERY_PROJECT = frozenset({"ops", "admin"})


def _listed(person: Person, project: Project) -> bool:
    listed = set(project.spec.get("researchers") or [])
    return any(identity.key in listed for identity in person.identities)


def leads(session: Session, person: Person, project: Project) -> bool:
    """Ops/admin, or a researcher listed on the project."""
    held = roles_of(session, person.id)
    if held & EVERY_PROJECT:
        return True
    return "researcher" in held and _listed(person, project)


def require_lead(session: Session, person: Person, project: Project, action: str) -> None:
    """Refuse (audited, as every PermissionDenied) unless `leads(person, project)`."""
    if not leads(session, person, project):
        raise PermissionDenied(
            f"Only ops or a researcher of {project.name} can {action}.",
            actor_id=person.id,
            subject=f"{action} ({project.name})",
        )


def may_see(session: Session, person: Person, project: Project) -> bool:
    """A lead of the project, or a contractor who has been given one of its tasks."""
    if leads(session, person, project):
        return True
    return was_given_a_task(session, person.id, project.id)


def require_see(session: Session, person: Person, project: Project, what: str) -> None:
    if not may_see(session, person, project):
        raise PermissionDenied(
            f"You are not on the project of {what}.",
            actor_id=person.id,
            subject=f"{what} ({project.name})",
        )


def visible_project_ids(session: Session, person: Person) -> list[int] | None:
    """The projects `person` leads, or None for every project (ops/admin)."""
    if roles_of(session, person.id) & EVERY_PROJECT:
        return None
    return [p.id for p in list_projects(session) if _listed(person, p)]
