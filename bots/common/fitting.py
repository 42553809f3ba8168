"""Fitting text into a platform's limits, for any platform.

Chat platforms cap every text (Slack: 3000 per section, Discord: 2000 per
message, 4096 per embed description) and some cap a whole payload. These are
the platform-neutral parts: how long a text is (`measure`, e.g. UTF-16 units
for Slack), cutting with an ellipsis at a safe place, splitting a long text into
pieces at paragraph/line/word boundaries, and sharing one budget fairly among
several texts. What makes a cut unsafe is the platform's business (Slack: half
an `&amp;`, a word turned into `@channel`), so adapters pass a `mend` function.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

ELLIPSIS = "…"
Measure = Callable[[str], int]
Mend = Callable[[str], str]

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_INVISIBLE = frozenset(("Cc", "Cf", "Zs", "Zl", "Zp"))


def _same(text: str) -> str:
    return text


def clean(text: str) -> str:
    """Replace lone surrogates (which cannot be encoded as UTF-8 JSON) with U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def is_blank(text: str) -> bool:
    """Nothing visible: only whitespace, control and format characters (zero-width
    spaces, joiners, BOM, direction marks). Platforms reject empty texts and trim
    before checking; we do not rely on how much they trim."""
    return all(ch.isspace() or unicodedata.category(ch) in _INVISIBLE for ch in text)


def truncate(
    text: str,
    limit: int,
    *,
    measure: Measure = len,
    ellipsis: str = ELLIPSIS,
    mend: Mend = _same,
) -> str:
    """`text` if it fits in `limit` (as counted by `measure`), else its longest
    prefix that fits together with `ellipsis`, passed through `mend` (which may
    only shorten it) so the cut lands somewhere safe.

    `measure` must be additive over characters. Returns "" only when not even
    the ellipsis fits."""
    if measure(text) <= limit:
        return text
    room = limit - measure(ellipsis)
    if room < 0:
        return ""
    # Longest prefix text[:lo] with measure <= room; every character costs at least 1.
    lo, hi = 0, min(len(text), room)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[:mid]) <= room:
            lo = mid
        else:
            hi = mid - 1
    return mend(text[:lo]) + ellipsis


def chunks(
    text: str,
    size: int,
    *,
    measure: Measure = len,
    mend: Mend = _same,
    restart: Mend = _same,
) -> list[str]:
    """Split text into non-blank pieces of at most `size`, breaking at a paragraph,
    else a line, else a word boundary in the second half of a piece, else anywhere
    (where `mend` allows). `restart` is applied to a piece cut mid-word: a text
    that was safe whole may not be safe from an arbitrary point on."""
    pieces: list[str] = []
    rest = text
    while rest:
        if measure(rest) <= size:
            head, rest = rest, ""
        else:
            # One character more than fits, so truncate does cut (and mends).
            head = truncate(rest[: size + 1], size, measure=measure, ellipsis="", mend=mend)
            head = head or rest[:1]
            for sep in ("\n\n", "\n", " "):
                pos = head.rfind(sep)
                if pos >= len(head) // 2:
                    head, rest = head[:pos], rest[pos + len(sep) :]
                    break
            else:
                rest = restart(rest[len(head) :])
        if not is_blank(head):
            pieces.append(head)
    return pieces


def water_level(demands: Sequence[int], budget: int) -> int:
    """The largest level L with sum(min(d, L)) <= budget (max-min fair shares)."""
    lo, hi = 0, max(demands, default=0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sum(min(d, mid) for d in demands) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


@dataclass
class Budget:
    """The texts of one payload, collected first so they can share a budget.

    Fixed texts are kept whole; flexible ones are cut fairly (max-min). Each text
    is already escaped and within its own element limit when added. A flexible
    text is never cut below its ellipsis, so callers keep the number of texts
    small against the budget."""

    measure: Measure
    mend: Mend = _same
    items: list[str] = field(default_factory=list)
    fixed: list[bool] = field(default_factory=list)
    ellipses: list[str] = field(default_factory=list)
    fitted: list[str] = field(default_factory=list)
    reserved: int = 0

    def reserve(self, cost: int) -> None:
        """Count markup the renderer adds around the texts (`*label*`, spaces, "…")."""
        self.reserved += cost

    def add(self, text: str, *, fixed: bool = False, ellipsis: str = ELLIPSIS) -> int:
        self.items.append(text)
        self.fixed.append(fixed)
        self.ellipses.append(ellipsis)
        return len(self.items) - 1

    def fit(self, budget: int) -> None:
        spent = self.reserved + sum(
            self.measure(t) for t, f in zip(self.items, self.fixed, strict=True) if f
        )
        flexible = [i for i, f in enumerate(self.fixed) if not f]
        demands = [self.measure(self.items[i]) for i in flexible]
        self.fitted = list(self.items)
        if sum(demands) <= budget - spent:
            return
        level = max(water_level(demands, max(0, budget - spent)), self.measure(ELLIPSIS))
        for i, demand in zip(flexible, demands, strict=True):
            if demand > level:
                self.fitted[i] = truncate(
                    self.items[i],
                    level,
                    measure=self.measure,
                    ellipsis=self.ellipses[i],
                    mend=self.mend,
                )

    def __getitem__(self, index: int) -> str:
        return self.fitted[index]

    def was_cut(self, index: int) -> bool:
        return self.fitted[index] != self.items[index]
