"""The weekly coverage report: scheduled contractor-hours per day against the
target, its gaps, and the optional chart."""

from __future__ import annotations

from hdops.chat import Context, Heading, Image, Message, Paragraph, Table
from hdops.domain.shifts import CoverageReport
from hdops.render.shifts.formatting import hours


def coverage_table(report: CoverageReport) -> Table:
    rows = []
    for d in report.days:
        short = max(0, report.target_minutes - d.minutes)
        rows.append(
            [
                d.day.strftime("%a %Y-%m-%d"),
                hours(d.minutes),
                hours(report.target_minutes),
                str(d.shifts),
                f"-{hours(short)}" if short else "ok",
            ]
        )
    rows.append(
        [
            "total",
            hours(report.total_minutes),
            hours(report.target_minutes * len(report.days)),
            str(sum(d.shifts for d in report.days)),
            "",
        ]
    )
    return Table(columns=["day", "hours", "target", "shifts", "gap"], rows=rows)


def _gap_lines(report: CoverageReport) -> str:
    gaps = report.gaps()
    if not gaps:
        return "No gaps: every day meets the target."
    return "Gaps: " + "; ".join(f"{d.day:%a} short {hours(missing)} h" for d, missing in gaps) + "."


def coverage_message(
    report: CoverageReport, *, title: str | None = None, chart_png: str | None = None
) -> Message:
    """The coverage report; with `chart_png` (base64) the chart is attached."""
    head = title or f"Coverage {report.week}"
    parts: list[Heading | Table | Paragraph | Context | Image] = [
        Heading(text=head),
        coverage_table(report),
        Paragraph(text=_gap_lines(report)),
        Context(
            text=f"Scheduled contractor-hours per day ({report.tz}); "
            f"target {hours(report.target_minutes)} h a day."
        ),
    ]
    if chart_png is not None:
        parts.append(
            Image(
                filename=f"coverage-{report.week}.png",
                title=f"Coverage {report.week}",
                png_base64=chart_png,
            )
        )
    gaps = len(report.gaps())
    summary = f"{head}: {hours(report.total_minutes)} h scheduled, {gaps} day(s) under target"
    return Message(text=summary, parts=list(parts))
