"""People, identities and roles (SPEC §1)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hdops.clock import utcnow
from hdops.domain.people import (
    IdentityKey,
    Role,
    check_person_name,
    check_role,
    looks_like_identity,
    parse_identity,
)
from hdops.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hdops.services import audit
from hdops.store import identities
from hdops.store.orm import ContractorProfile, Identity, Person, RateChange, RoleGrant


@dataclass(frozen=True)
class PersonView:
    id: int
    name: str
    display_name: str
    tz: str | None
    identities: tuple[str, ...]
    roles: tuple[str, ...]
    skills: tuple[str, ...]
    hourly_rate: Decimal | None
    status: str | None


def check_tz(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown timezone {tz!r} (use a name like Europe/London)") from None
    return tz


def parse_money(text: str | Decimal, what: str = "amount") -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise InvalidInput(f"{what} must be a decimal amount such as 12.50, not {text!r}") from None
    if not value.is_finite():
        raise InvalidInput(f"{what} must be a finite amount")
    return value


def parse_skills(text: str | Iterable[str] | None) -> list[str]:
    if text is None:
        return []
    parts = text.split(",") if isinstance(text, str) else list(text)
    skills = sorted({p.strip().lower() for p in parts if p.strip()})
    return skills


def view(person: Person) -> PersonView:
    profile = person.profile
    return PersonView(
        id=person.id,
        name=person.name,
        display_name=person.display_name,
        tz=person.tz,
        identities=tuple(i.key for i in person.identities),
        roles=tuple(sorted(r.role for r in person.roles)),
        skills=tuple(profile.skills) if profile else (),
        hourly_rate=profile.hourly_rate if profile else None,
        status=profile.status if profile else None,
    )


def add_person(
    session: Session,
    name: str,
    *,
    identities: Sequence[str] = (),
    tz: str | None = None,
    roles: Sequence[str] = (),
    hourly_rate: str | Decimal | None = None,
    currency: str = "USD",
    skills: str | Iterable[str] | None = None,
    display_name: str | None = None,
    actor_id: int | None = None,
) -> Person:
    check_person_name(name)
    keys = [parse_identity(i) for i in identities]
    role_list = [check_role(r) for r in roles]
    if tz is not None:
        check_tz(tz)
    rate = parse_money(hourly_rate, "hourly rate") if hourly_rate is not None else None
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidInput(f"currency must be a 3-letter ISO code such as USD, not {currency!r}")
    if rate is not None and rate < 0:
        raise InvalidInput("hourly rate must be zero or more")
    if session.scalar(select(Person.id).where(Person.name == name)) is not None:
        raise Conflict(f"a person named {name!r} already exists")
    for key in keys:
        owner = _identity_owner(session, key)
        if owner is not None:
            raise Conflict(f"{key} already belongs to {owner.name}")
    now = utcnow()
    person = Person(name=name, display_name=display_name or name, tz=tz, created_at=now)
    for key in keys:
        person.identities.append(Identity(platform=key.platform, external_id=key.external_id))
    for role in dict.fromkeys(role_list):
        person.roles.append(RoleGrant(role=role, granted_at=now, granted_by=actor_id))
    if "contractor" in role_list or rate is not None or skills:
        person.profile = ContractorProfile(
            skills=parse_skills(skills), hourly_rate=rate, currency=currency, status="active"
        )
    session.add(person)
    session.flush()
    if rate is not None:
        session.add(
            RateChange(person_id=person.id, hourly_rate=rate, currency=currency, effective_from=now)
        )
    audit.record(session, "person.add", person.name, actor_id=actor_id, roles=role_list)
    return person


def _identity_owner(session: Session, key: IdentityKey) -> Person | None:
    return session.scalar(
        select(Person)
        .join(Identity)
        .where(Identity.platform == key.platform, Identity.external_id == key.external_id)
    )


def find_person(session: Session, ref: str) -> Person | None:
    """A person by name or by any identity (`slack:U…`)."""
    ref = ref.strip().lstrip("@")
    if looks_like_identity(ref):
        try:
            return _identity_owner(session, parse_identity(ref))
        except InvalidInput:
            return None
    return session.scalar(select(Person).where(Person.name == ref))


def get_person(session: Session, ref: str) -> Person:
    person = find_person(session, ref)
    if person is None:
        raise NotFound(f"no person {ref!r} (use a name or an identity like slack:U0123ABC)")
    return person


def person_by_identity(session: Session, platform: str, external_id: str) -> Person | None:
    return _identity_owner(session, IdentityKey(platform, external_id))


def display_names(session: Session, platform: str, external_ids: Iterable[str]) -> dict[str, str]:
    """How hdops names the people behind these platform ids (e.g. Slack user ids in a
    message's mentions); ids of people hdops does not know are left out."""
    return identities.display_names(session, platform, set(external_ids))


def list_people(session: Session, role: str | None = None) -> list[Person]:
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
        stmt = stmt.join(RoleGrant, RoleGrant.person_id == Person.id).where(
            RoleGrant.role == check_role(role)
        )
    return list(session.scalars(stmt))


def roles_of(session: Session, person_id: int) -> set[str]:
    return set(session.scalars(select(RoleGrant.role).where(RoleGrant.person_id == person_id)))


def require_role(session: Session, person: Person, *roles: Role, action: str = "do that") -> None:
    """Refuse unless `person` holds one of `roles`."""
    held = roles_of(session, person.id)
    if not held & set(roles):
        need = " or ".join(roles)
        raise PermissionDenied(f"Only {need} can {action}.", actor_id=person.id, subject=action)


def grant_role(session: Session, person_ref: str, role: str, actor_id: int | None = None) -> bool:
    """Grant a role; returns False if the person already held it."""
    person = get_person(session, person_ref)
    role = check_role(role)
    if role in roles_of(session, person.id):
        return False
    session.add(RoleGrant(person_id=person.id, role=role, granted_at=utcnow(), granted_by=actor_id))
    if role == "contractor" and person.profile is None:
        person.profile = ContractorProfile(skills=[], hourly_rate=None, currency="USD")
    audit.record(session, "role.grant", person.name, actor_id=actor_id, role=role)
    return True


def revoke_role(session: Session, person_ref: str, role: str, actor_id: int | None = None) -> bool:
    """Take a role away; returns False if the person did not hold it. The last admin
    keeps theirs (nobody could grant roles in chat any more): grant it to someone
    else first."""
    person = get_person(session, person_ref)
    role = check_role(role)
    grant = session.get(RoleGrant, (person.id, role))
    if grant is None:
        return False
    if role == "admin" and _admins(session) == [person.id]:
        raise Conflict(f"{person.name} is the last admin; grant admin to someone else first.")
    session.delete(grant)
    audit.record(session, "role.revoke", person.name, actor_id=actor_id, role=role)
    return True


def _admins(session: Session) -> list[int]:
    return list(session.scalars(select(RoleGrant.person_id).where(RoleGrant.role == "admin")))


def set_timezone(session: Session, person: Person, tz: str) -> None:
    person.tz = check_tz(tz)
    audit.record(session, "person.tz", person.name, actor_id=person.id, tz=tz)
