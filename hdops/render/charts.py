"""PNG charts for digests, drawn with matplotlib's Agg canvas.

The figure is built with the object API (`Figure` + `FigureCanvasAgg`), never
pyplot, so no global backend is switched and nothing needs a display. The PNG
carries no software or date metadata, so the same data gives the same bytes.
"""

from __future__ import annotations

import base64
import io

from hdops.domain.shifts import CoverageReport


def coverage_png(report: CoverageReport) -> bytes:
    """Bars of scheduled hours per day, the target as a line, short days in red."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = [d.day.strftime("%a\n%d %b") for d in report.days]
    hours = [d.minutes / 60 for d in report.days]
    target = report.target_minutes / 60
    colors = ["#c0392b" if d.minutes < report.target_minutes else "#2e86c1" for d in report.days]

    fig = Figure(figsize=(7, 3.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.bar(range(len(hours)), hours, color=colors)
    ax.axhline(target, color="#333333", linestyle="--", linewidth=1, label=f"target {target:.1f} h")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel("contractor-hours")
    ax.set_title(f"Coverage {report.week} ({report.tz})")
    ax.set_ylim(0, max([target, *hours]) * 1.2 + 0.5)
    ax.legend(loc="upper right", frameon=False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def as_base64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")
