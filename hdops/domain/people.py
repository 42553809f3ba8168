"""People, identities and roles (SPEC §1)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from hdops.domain.inputs import quoted
from hdops.errors import InvalidInput

Role = Literal["contractor", "researcher", "ops", "admin"]
ROLES: tuple[Role, ...] = ("contractor", "researcher", "ops", "admin")
PLATFORMS = ("slack", "discord", "console")

_ID_PATTERNS = {
    "slack": re.compile(r"^[UW][A-Z0-9]{2,20}$"),
    "discord": re.compile(r"^[0-9]{1,20}$"),
    "console": re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$"),
}
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


@dataclass(frozen=True)
class IdentityKey:
    platform: str
    external_id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.external_id}"


def parse_identity(text: str) -> IdentityKey:
    """Parse `slack:U0123ABC`, `discord:1234…` or `console:alice`."""
    platform, sep, ext = text.strip().partition(":")
    platform = platform.lower()
    if not sep or platform not in _ID_PATTERNS:
        raise InvalidInput(
            f"{quoted(text)} is not an identity; "
            "write slack:U0123ABC, discord:1234567890 or console:name"
        )
    if not _ID_PATTERNS[platform].match(ext):
        raise InvalidInput(f"{quoted(text)} is not a valid {platform} id")
    return IdentityKey(platform, ext)


def looks_like_identity(text: str) -> bool:
    return text.split(":", 1)[0].lower() in PLATFORMS and ":" in text


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    return role


def check_person_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise InvalidInput(
            f"{quoted(name)} is not a valid name: use 1-40 letters, digits, '.', '_' or '-'"
        )
    return name


@dataclass(frozen=True)
class PersonChange:
    """One change `hdops person update` made. `kind`: identity_add, identity_remove,
    display_name, tz, skills, rate (before/after: (hourly rate, currency))."""

    kind: str
    before: Any
    after: Any
