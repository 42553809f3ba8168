"""People, identities and roles (SPEC §1).

A person is never deleted: work, shifts and pay refer to them. `update_person`
changes identities, skills, rate, currency, timezone and display name (each
change one audit entry); `hdops.services.deactivation` ends their work.
Deactivation is kept on the work profile (`ContractorProfile.status`,
`inactive`), the one flag dispatch already reads on the hot path, so a
deactivated person is skipped without a join; people without a profile (a
researcher, ops) get one when deactivated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from hdops.clock import utcnow
from hdops.domain.money import parse_decimal
from hdops.domain.people import (
    IdentityKey,
    PersonChange,
    Role,
    check_person_name,
    check_role,
    looks_like_identity,
    parse_identity,
)
from hdops.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from hdops.services import audit
from hdops.store import identities
from hdops.store import people as people_q
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
    currency: str = "USD"


def check_tz(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown timezone {tz!r} (use a name like Europe/London)") from None
    return tz


def parse_money(text: str | Decimal, what: str = "amount") -> Decimal:
    """A rate as typed: ASCII digits, at most 4 decimals, in the store's range."""
    return parse_decimal(text, what)


def check_currency(text: str) -> str:
    """A 3-letter ISO code; `usd` is read as USD."""
    code = text.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise InvalidInput(f"currency must be a 3-letter ISO code such as USD, not {text!r}")
    return code


def check_hourly_rate(text: str | Decimal) -> Decimal:
    rate = parse_money(text, "hourly rate")
    if rate < 0:
        raise InvalidInput("hourly rate must be zero or more")
    return rate


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
        currency=profile.currency if profile else "USD",
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
    rate = check_hourly_rate(hourly_rate) if hourly_rate is not None else None
    currency = check_currency(currency)
    if people_q.name_taken(session, name):
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


INACTIVE = "inactive"


def is_active(person: Person) -> bool:
    """False once the person is deactivated (`hdops person deactivate`)."""
    return person.profile is None or person.profile.status != INACTIVE


def require_active(person: Person, what: str, *, yourself: bool = False) -> None:
    """Refuse work for a deactivated person (tasks, shifts, check-ins); `yourself`:
    the person asked for it themselves."""
    if is_active(person):
        return
    if yourself:
        raise PermissionDenied(
            f"Your hdops work has ended (deactivated by ops), so you can't {what}. "
            "Ask ops if this is a mistake."
        )
    raise PermissionDenied(
        f"{person.name} is deactivated, so they can't {what} "
        f"(ops can undo it: hdops person reactivate {person.name})."
    )


@dataclass(frozen=True)
class PersonChanges:
    """What `hdops person update` asks for; None / empty: leave as it is."""

    add_identities: Sequence[str] = ()
    remove_identities: Sequence[str] = ()
    skills: str | None = None  # comma-separated; "" clears them
    hourly_rate: str | None = None
    currency: str | None = None
    tz: str | None = None
    display_name: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.add_identities or self.remove_identities) and all(
            v is None
            for v in (self.skills, self.hourly_rate, self.currency, self.tz, self.display_name)
        )


def update_person(
    session: Session,
    ref: str,
    changes: PersonChanges,
    *,
    actor_id: int | None = None,
    now: datetime | None = None,
    details: Mapping[str, Any] | None = None,
) -> tuple[Person, list[PersonChange]]:
    """Apply `changes` to the person `ref` all at once or not at all; returns the
    person and the changes made, each also one audit entry `person.<kind>` (none:
    everything already was so).

    Every input is checked before anything is written. An identity someone else
    holds is refused naming its owner; removing an identity the person does not
    have, or their last one (nobody could reach them), is refused. A new hourly
    rate or currency is added to the rate history from now on: time checked in
    before keeps the rate it was checked in at."""
    if changes.empty:
        raise InvalidInput("nothing to change: give at least one option (see --help)")
    person = get_person(session, ref)
    now = now or utcnow()
    adds = [parse_identity(i) for i in changes.add_identities]
    removes = [parse_identity(i) for i in changes.remove_identities]
    skills = parse_skills(changes.skills) if changes.skills is not None else None
    rate = check_hourly_rate(changes.hourly_rate) if changes.hourly_rate is not None else None
    currency = check_currency(changes.currency) if changes.currency is not None else None
    tz = check_tz(changes.tz) if changes.tz is not None else None
    display_name = changes.display_name.strip() if changes.display_name is not None else None
    if display_name is not None and not 1 <= len(display_name) <= 120:
        raise InvalidInput("display name must be 1 to 120 characters")

    held = {i.key: i for i in person.identities}
    for key in adds:
        owner = _identity_owner(session, key)
        if owner is not None and owner.id != person.id:
            raise Conflict(f"{key} already belongs to {owner.name}")
    for key in removes:
        if str(key) not in held:
            raise NotFound(f"{person.name} has no identity {key}")
    adding = list(dict.fromkeys(str(k) for k in adds if str(k) not in held))
    removing = list(dict.fromkeys(str(k) for k in removes if str(k) not in adding))
    if len(held) + len(adding) - len(removing) < 1:
        raise InvalidInput(
            f"{removing[-1]} is {person.name}'s last identity; add another one first "
            "(without one nobody can reach them)"
        )

    done: list[PersonChange] = []

    def note(change: PersonChange, **extra: Any) -> None:
        done.append(change)
        audit.record(
            session,
            f"person.{change.kind}",
            person.name,
            actor_id=actor_id,
            at=now,
            **extra,
            **(details or {}),
        )

    for key_text in removing:
        person.identities.remove(held[key_text])
        note(PersonChange("identity_remove", key_text, None), identity=key_text)
    if removing:
        session.flush()  # free the unique (platform, id) before it is added again
    for key_text in adding:
        key = parse_identity(key_text)
        person.identities.append(Identity(platform=key.platform, external_id=key.external_id))
        note(PersonChange("identity_add", None, key_text), identity=key_text)
    if display_name is not None and display_name != person.display_name:
        change = PersonChange("display_name", person.display_name, display_name)
        person.display_name = display_name
        note(change, before=change.before, after=change.after)
    if tz is not None and tz != person.tz:
        change = PersonChange("tz", person.tz, tz)
        person.tz = tz
        note(change, before=change.before, after=change.after)
    if skills is not None or rate is not None or currency is not None:
        profile = work_profile(person)
        if skills is not None and skills != list(profile.skills):
            change = PersonChange("skills", list(profile.skills), skills)
            profile.skills = skills
            note(change, before=change.before, after=change.after)
        new_rate = rate if rate is not None else profile.hourly_rate
        new_currency = currency or profile.currency
        if new_rate != profile.hourly_rate or new_currency != profile.currency:
            change = PersonChange(
                "rate", (profile.hourly_rate, profile.currency), (new_rate, new_currency)
            )
            profile.hourly_rate, profile.currency = new_rate, new_currency
            session.add(
                RateChange(
                    person_id=person.id,
                    hourly_rate=new_rate,
                    currency=new_currency,
                    effective_from=now,
                )
            )
            note(
                change,
                before=[_text(v) for v in change.before],
                after=[_text(v) for v in change.after],
            )
    session.flush()
    return person, done


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def add_console_identity(
    session: Session, person: Person, *, details: Mapping[str, Any] | None = None
) -> str:
    """Give `person` a console identity (the local chat's), named after them:
    `console:<name>` in lower case, or `console:<name>-<id>` when someone else holds
    that one. Audited as any identity added; returns the identity."""
    base = re.sub(r"[^a-z0-9._-]", "-", person.name.lower()).strip("-._")[:30] or "person"
    for candidate in (base, f"{base}-{person.id}"):
        key = IdentityKey("console", candidate)
        if _identity_owner(session, key) is None:
            update_person(
                session, person.name, PersonChanges(add_identities=[str(key)]), details=details
            )
            return str(key)
    raise Conflict(f"no free console name for {person.name}; add one with person update")


def work_profile(person: Person) -> ContractorProfile:
    """The person's work profile (skills, rate, status), made on first need."""
    if person.profile is None:
        person.profile = ContractorProfile(
            skills=[], hourly_rate=None, currency="USD", status="active"
        )
    return person.profile


def _identity_owner(session: Session, key: IdentityKey) -> Person | None:
    return people_q.identity_owner(session, key.platform, key.external_id)


def find_person(session: Session, ref: str) -> Person | None:
    """A person by name or by any identity (`slack:U…`)."""
    ref = ref.strip().lstrip("@")
    if looks_like_identity(ref):
        try:
            return _identity_owner(session, parse_identity(ref))
        except InvalidInput:
            return None
    return people_q.by_name(session, ref)


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
    return people_q.listed(session, check_role(role) if role is not None else None)


def roles_of(session: Session, person_id: int) -> set[str]:
    return people_q.roles_of(session, person_id)


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
    return people_q.holders_of(session, "admin")


def set_timezone(session: Session, person: Person, tz: str) -> None:
    person.tz = check_tz(tz)
    audit.record(session, "person.tz", person.name, actor_id=person.id, tz=tz)


def set_preferred_platform(session: Session, person: Person, platform: str | None) -> None:
    """Pin direct messages to `platform` (one the person has an identity on), or
    None to follow the platform they used last. Audited."""
    if platform is not None and platform not in {i.platform for i in person.identities}:
        have = ", ".join(sorted({i.platform for i in person.identities})) or "none"
        raise InvalidInput(
            f"You have no {platform} identity here (yours: {have}); ask ops to add one."
        )
    if person.preferred_platform == platform:
        return
    audit.record(
        session,
        "person.prefer",
        person.name,
        actor_id=person.id,
        before=person.preferred_platform,
        after=platform,
    )
    person.preferred_platform = platform
