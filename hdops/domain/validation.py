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


# Specs and items are data a person wrote; nobody nests them 30 levels deep. Deeper
# nesting is refused where it is read, before anything recurses over it (the YAML
# and JSON parsers, pydantic, json.dumps and the renderers all recurse, and Python
# stops at about 1,000 levels with a RecursionError).
MAX_NESTING = 32


def too_deep(value: object, limit: int = MAX_NESTING) -> bool:
    """Whether lists and mappings in `value` nest more than `limit` levels (a
    cycle, which YAML aliases can make, is infinitely deep). Iterative, and each
    container is measured once, however many aliases share it."""
    height: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[object, bool]] = [(value, False)]
    while stack:
        node, measured = stack.pop()
        if not isinstance(node, dict | list | tuple):
            continue
        key = id(node)
        children = list(node.values() if isinstance(node, dict) else node)
        if measured:
            below = [height.get(id(c), 0) for c in children if isinstance(c, dict | list | tuple)]
            height[key] = 1 + max(below, default=0)
            if height[key] > limit:
                return True
            active.discard(key)
        elif key in active:
            return True
        elif key not in height:
            active.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children)
    return False
