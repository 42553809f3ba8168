"""The SQL of people and their roles."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from hdops.store.orm import Identity, Person, RoleGrant


def by_name(session: Session, name: str) -> Person | None:
    return session.scalar(select(Person).where(Person.name == name))


def name_taken(session: Session, name: str) -> bool:
    return session.scalar(select(Person.id).where(Person.name == name)) is not None


def identity_owner(session: Session, platform: str, external_id: str) -> Person | None:
    return session.scalar(
        select(Person)
        .join(Identity)
        .where(Identity.platform == platform, Identity.external_id == external_id)
    )


def listed(session: Session, role: str | None = None) -> list[Person]:
    """Everyone (or everyone holding `role`) by name, identities, roles and profile loaded."""
    stmt = (
        select(Person)
        .options(
            selectinload(Person.identities),
            selectinload(Person.roles),
            selectinload(Person.profile),
        )
        .order_by(Person.name)
    )
    if role is not None:
        stmt = stmt.join(RoleGrant, RoleGrant.person_id == Person.id).where(RoleGrant.role == role)
    return list(session.scalars(stmt))


def roles_of(session: Session, person_id: int) -> set[str]:
    return set(session.scalars(select(RoleGrant.role).where(RoleGrant.person_id == person_id)))


def holders_of(session: Session, role: str) -> list[int]:
    return list(session.scalars(select(RoleGrant.person_id).where(RoleGrant.role == role)))


def names_like(session: Session, typed: str, limit: int) -> list[str]:
    """Names containing `typed` (any case; `%` and `_` are literal), by name."""
    stmt = (
        select(Person.name)
        .where(func.lower(Person.name).contains(typed.lower(), autoescape=True))
        .order_by(Person.name)
        .limit(limit)
    )
    return list(session.scalars(stmt))
