"""Turning pydantic errors into the one-line `path: reason` problems users see."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails


def format_loc(loc: Sequence[int | str], prefix: Sequence[int | str] = ()) -> str:
    parts: list[str] = []
    for part in (*prefix, *loc):
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part in {"function-after", "function-before", "function-wrap"}:
            continue
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "(top)"


def _reason(err: ErrorDetails) -> str:
    msg = err["msg"]
    for lead in ("Value error, ", "Assertion failed, "):
        if msg.startswith(lead):
            msg = msg[len(lead) :]
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "missing":
        return "required"
    return msg[:1].lower() + msg[1:]


def problems_from(exc: ValidationError, prefix: Sequence[int | str] = ()) -> list[str]:
    """Every error of a pydantic ValidationError as `path: reason`."""
    return [f"{format_loc(e['loc'], prefix)}: {_reason(e)}" for e in exc.errors()]


def dedupe(problems: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for p in problems:
        seen.setdefault(p, None)
    return list(seen)
