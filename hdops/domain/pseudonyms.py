"""Pseudonyms of contractors in exports (SPEC §4).

An export must let researchers tell raters apart without telling them who the
raters are, and a rater must keep the same alias from one export to the next
so that analyses can be joined across exports. Aliases are handed out per
project in order of first appearance: `rater-001`, `rater-002`, … (more digits
after 999). They carry no platform id, name or database id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ALIAS_PREFIX = "rater-"
_ALIAS_RE = re.compile(r"^rater-([0-9]{3,})$")


def alias_for(number: int) -> str:
    """The alias of the `number`-th rater of a project (1-based)."""
    if number < 1:
        raise ValueError("pseudonym numbers start at 1")
    return f"{ALIAS_PREFIX}{number:03d}"


def alias_number(alias: str) -> int | None:
    """The number inside an alias we handed out, or None for any other text."""
    match = _ALIAS_RE.match(alias)
    return int(match.group(1)) if match else None


def next_aliases(existing: Iterable[str], count: int) -> list[str]:
    """`count` new aliases following the highest one already used in the project."""
    highest = max((n for n in map(alias_number, existing) if n is not None), default=0)
    return [alias_for(highest + i) for i in range(1, count + 1)]
