"""The spread of a project's work in chat (SPEC §6b): for researchers and ops only
(`/hdops project status`), since it names contractors."""

from __future__ import annotations

from hdops.chat import FieldPart, Part, Table
from hdops.domain.distribution import Distribution, spread_words


def spread_parts(overall: Distribution, week: Distribution) -> list[Part]:
    """Gini and top-20 % share all time and this week, then answers per contractor
    (everyone who has worked on the project, most answers first)."""
    parts: list[Part] = [
        FieldPart(label="Spread (all time)", value=spread_words(overall.spread)),
        FieldPart(label=f"Spread {week.week}", value=spread_words(week.spread)),
    ]
    if overall.contractors:
        this_week = {c.person_id: c.answers for c in week.contractors}
        parts.append(
            Table(
                columns=["Contractor", "Answers", f"In {week.week}"],
                rows=[
                    [c.label, str(c.answers), str(this_week.get(c.person_id, 0))]
                    for c in overall.contractors
                ],
            )
        )
    return parts
