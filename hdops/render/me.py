"""A contractor's own figures in chat (`/hdops me`): a table of their projects and
this week's earnings so far. Only their own figures are passed in."""

from __future__ import annotations

from datetime import timedelta

from hdops.chat import Context, FieldPart, Heading, Message, Paragraph, Part, Table
from hdops.domain.me import OwnFigures, OwnProject
from hdops.domain.money import format_money
from hdops.render.shifts.formatting import duration


def _gold(p: OwnProject) -> str:
    if p.gold_answered == 0:
        return "-" if p.standing == "-" else f"none yet ({p.standing})"
    accuracy = p.gold_accuracy or 0.0
    record = f"{p.gold_correct}/{p.gold_answered} ({accuracy:.0%})"
    return record if p.standing == "-" else f"{record} {p.standing}"


def own_figures(f: OwnFigures) -> Message:
    heading = f"Your work — {f.display_name}"
    parts: list[Part] = [Heading(text=heading)]
    if f.projects:
        parts.append(
            Table(
                columns=[
                    "Project",
                    f"Answers {f.week}",
                    "All time",
                    "Gold",
                    "Agreement",
                    "Skips",
                    "Questions",
                ],
                rows=[
                    [
                        p.title,
                        str(p.answers_week),
                        str(p.answers) + (f" ({p.rejected} rejected)" if p.rejected else ""),
                        _gold(p),
                        "-" if p.agreement is None else f"{p.agreement:.0%}",
                        f"{p.skips_week} / {p.skips}",
                        f"{p.questions_week} / {p.questions}",
                    ]
                    for p in f.projects
                ],
            )
        )
        parts.append(
            Context(
                text="Skips and questions: this week / all time. Gold: check items you "
                "answered right, and where that puts you in the project. Agreement: how "
                "often your answers match what the others answered on the same items."
            )
        )
    else:
        parts.append(Paragraph(text="No tasks yet: /hdops next gets you one."))
    if f.earnings:
        for e in f.earnings:
            hours = f", {duration(timedelta(seconds=e.seconds_checked_in))} checked in"
            parts.append(
                FieldPart(
                    label=f"Earned in {f.week} so far",
                    value=f"{format_money(e.total, e.currency)} {e.currency} "
                    f"({e.tasks} task{'s' if e.tasks != 1 else ''}"
                    f"{hours if e.seconds_checked_in else ''})",
                )
            )
        parts.append(
            Context(
                text="Priced as your weekly statement will be; a check-in counts once it "
                "is closed, and the statement ops approve is what is paid."
            )
        )
    else:
        parts.append(FieldPart(label=f"Earned in {f.week} so far", value="nothing yet"))
    return Message(text=heading, parts=parts)
