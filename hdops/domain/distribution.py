"""How evenly work is spread (SPEC §5, §6b): the Gini coefficient and the top-20 %
share of answers per contractor, and the dispatcher's even-share rule.

Why here: the reports (demo, `hdops project show`, `/hdops project status`) show
the spread, and the dispatcher keeps it down; both read these pure rules, so
what a report measures is what dispatch aims at.

Definitions, for `n` contractors with answer counts `x_1 … x_n` (zeros included:
someone offered work who gave no answer still counts):

* **Gini** = Σ_i Σ_j |x_i − x_j| / (2 · n · Σx): 0 when everyone gave as many
  answers, (n − 1)/n when one person gave them all, so always below 1. No
  answers at all (or nobody) is 0: nothing is unevenly spread. It is computed
  exactly (integer sums, one division), so it does not move when the counts are
  reordered or all multiplied by the same factor.
* **Top-20 % share**: the share of all answers given by the `ceil(0.2 · n)`
  contractors with the most answers (at least one person when there is anyone).
  For small teams that group is more than a fifth — 2 of 6, 2 of 8, 1 of 5 — so
  even a perfectly even spread reads `ceil(0.2 · n) / n` (33 % for 6, 25 % for
  8), never less: compare it with that floor, not with 20 %.

The even-share rule (`hold_back`) is the dispatcher's reading of SPEC §5
("the one with fewer answers in the project this week is served first when
tasks are scarce"): work is scarce *for a contractor* when what is left is no
more than the others working on the project need to draw level with them
(`catch_up_need`, at most MOST_KEPT tasks); then it is kept for them. With
plenty of work everyone works at their own pace; as it runs out, those behind
get the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

TOP_SHARE = 0.2  # "the top 20% of contractors" (SPEC §6b: the spread of work)

# The most open tasks the even-share rule keeps back for those behind. With more
# open work than this nobody waits (so the dispatcher's test is a bounded index
# scan), and someone far ahead after a week alone does not stand idle while a
# newcomer works through a big project.
MOST_KEPT = 250


def top_group_size(people: int, share: float = TOP_SHARE) -> int:
    """How many people make up the top `share` of `people`: ceil(share · people),
    at least one of any (and 0 of nobody). Exact: the share is read as the decimal
    it is written as, so a float's last bit never adds a person."""
    return max(1, math.ceil(Fraction(str(share)) * people)) if people else 0


def gini_fraction(counts: Sequence[int]) -> Fraction:
    """The Gini coefficient of non-negative counts, exactly (see the module doc)."""
    if any(c < 0 for c in counts):
        raise ValueError("answer counts cannot be negative")
    n = len(counts)
    total = sum(counts)
    if n == 0 or total == 0:
        return Fraction(0)
    # Σ_i Σ_j |x_i − x_j| = 2 Σ_i (2i − n − 1) x_(i), x sorted ascending, i from 1.
    weighted = sum((2 * i - n - 1) * x for i, x in enumerate(sorted(counts), start=1))
    return Fraction(weighted, n * total)


def gini(counts: Sequence[int]) -> float:
    return float(gini_fraction(counts))


@dataclass(frozen=True)
class Spread:
    """How a set of answer counts is spread: the Gini coefficient and the share of
    the top `ceil(0.2 · n)` contractors."""

    people: int
    answers: int
    gini: float
    top_count: int
    top_answers: int

    @property
    def top_share(self) -> float:
        """The top group's share of the answers (0 when there are none)."""
        return self.top_answers / self.answers if self.answers else 0.0

    @property
    def even_top_share(self) -> float:
        """What `top_share` reads when everyone gave as many answers (its floor)."""
        return self.top_count / self.people if self.people else 0.0


def spread(counts: Sequence[int]) -> Spread:
    """The spread of answers per contractor (zeros count as people)."""
    ordered = sorted(counts, reverse=True)
    top = top_group_size(len(ordered))
    return Spread(
        people=len(ordered),
        answers=sum(ordered),
        gini=gini(ordered),
        top_count=top,
        top_answers=sum(ordered[:top]),
    )


@dataclass(frozen=True)
class ContractorAnswers:
    """One contractor's answers in a distribution, under the label the caller
    asked for (a display name for ops and researchers, or the export pseudonym)."""

    person_id: int
    label: str
    answers: int


@dataclass(frozen=True)
class Distribution:
    """Answers per contractor in one project, all time (`week` None) or one ISO
    week, most answers first, and their spread."""

    project: str
    week: str | None  # `2026-W10`, None: all time
    contractors: tuple[ContractorAnswers, ...]
    spread: Spread

    @classmethod
    def of(
        cls, project: str, week: str | None, contractors: Sequence[ContractorAnswers]
    ) -> Distribution:
        ordered = tuple(sorted(contractors, key=lambda c: (-c.answers, c.label, c.person_id)))
        return cls(project, week, ordered, spread([c.answers for c in ordered]))


def spread_words(s: Spread) -> str:
    """One line for a report: `7 contractors · Gini 0.17 · top 20% (2 of 7) gave
    31% of 228 answers (25% if even)`."""
    if s.people == 0:
        return "no contractor has worked on it"
    people = f"{s.people} contractor{'s' if s.people != 1 else ''}"
    return (
        f"{people} · Gini {s.gini:.2f} · top 20% ({s.top_count} of {s.people}) gave "
        f"{s.top_share:.0%} of {s.answers} answer{'s' if s.answers != 1 else ''} "
        f"({s.even_top_share:.0%} if even)"
    )


def catch_up_need(mine: int, others: Sequence[int]) -> int:
    """Answers the others working on a project need to draw level with a
    contractor who has `mine`: Σ max(0, mine − theirs)."""
    return sum(max(0, mine - theirs) for theirs in others)


def kept_back(mine: int, others: Sequence[int]) -> int:
    """How many open tasks are kept for those behind a contractor with `mine`
    answers: what they need to draw level (`catch_up_need`), at most MOST_KEPT."""
    return min(catch_up_need(mine, others), MOST_KEPT)


def hold_back(mine: int, others: Sequence[int], open_slots: int) -> bool:
    """The even-share rule: the project's open work is scarce for a contractor when
    it is no more than is kept for the others to draw level with them
    (`kept_back`); then it goes to those behind (served first) and they wait.
    Nobody behind, nothing kept: they never wait for nobody."""
    kept = kept_back(mine, others)
    return kept > 0 and open_slots <= kept
