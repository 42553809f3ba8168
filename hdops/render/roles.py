"""What granting and revoking a role says, in chat and on the CLI alike."""

from __future__ import annotations


def role_granted(name: str, role: str, changed: bool) -> str:
    return f"{name} is now {role}" if changed else f"{name} already has role {role}"


def role_revoked(name: str, role: str, changed: bool) -> str:
    return f"{name} is no longer {role}" if changed else f"{name} did not have role {role}"
