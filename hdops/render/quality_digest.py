"""The weekly quality digest a researcher gets for each project they lead: can the
labels be used, is the work spread evenly, does anything wait for them."""

from __future__ import annotations

from hdops.chat import Context, Heading, Message, Paragraph
from hdops.domain.quality.report import GoldRecord, ProjectQuality
from hdops.domain.reports import ProjectFigures
from hdops.domain.weeks import IsoWeek


def quality_digest(
    week: IsoWeek, figures: ProjectFigures, quality: ProjectQuality | None
) -> Message:
    title = f"Quality digest {week}: {figures.title}"
    alpha = "-"
    if quality is not None and quality.agreement.primary is not None:
        alpha = f"{quality.agreement.primary:.2f}"
    gold = gold_text(figures, quality)
    open_questions = figures.clarifications.asked - figures.clarifications.resolved
    lines = [
        f"Progress: {figures.items_completed} of {figures.items - figures.gold_items} items"
        f" complete, {figures.answers} accepted answers from {len(figures.contractors)}"
        " contractors.",
        f"Agreement (Krippendorff's alpha): {alpha}. Gold accuracy: {gold}.",
        f"Spread of work: the top 20 % of contractors gave {figures.top_share:.0%} of the answers.",
        f"Open questions: {open_questions}.",
    ]
    weak = [
        c.display_name
        for c in (quality.raters if quality is not None else ())
        if c.gold.interval is not None
        and figures.qualification is not None
        and c.gold.interval.high < figures.qualification.min_gold_accuracy
    ]
    if weak:
        lines.append("Below the gold bar even at the top of their interval: " + ", ".join(weak))
    text = "\n".join(lines)
    return Message(
        text=f"{title}\n{text}",
        parts=[
            Heading(text=title),
            Paragraph(text=text),
            Context(text=f"hdops report {figures.name} --out report.html has the details."),
        ],
    )


def gold_text(figures: ProjectFigures, quality: ProjectQuality | None) -> str:
    """The project's gold accuracy: from the quality figures when there are any (the
    accepted answers, as every quality figure), else from the report's counts."""
    if quality is not None:
        record = sum((r.gold for r in quality.raters), GoldRecord(0, 0))
        if record.accuracy is not None:
            return f"{record.accuracy:.0%} ({record.correct} of {record.answered})"
        return "-"
    return "-" if figures.gold_accuracy is None else f"{figures.gold_accuracy:.0%}"
