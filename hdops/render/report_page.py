"""`hdops report PROJECT --out report.html`: one self-contained page a researcher
opens in a browser to decide whether the labels can be used.

Self-contained means one file and no requests: the styles are inline and the charts
are inline SVG drawn by matplotlib (text as paths, so no font is needed and no name
can inject markup). Every text that came from people (names, questions, titles) is
HTML-escaped. The page reads the same figures as the chat reports
(`hdops.domain.reports`), plus the quality figures when there are any.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from datetime import datetime

from hdops.domain.quality.analysis import AlphaFigures
from hdops.domain.quality.report import ProjectQuality, RaterQuality
from hdops.domain.reports import ContractorFigures, ProjectFigures
from hdops.render.quality_digest import gold_text

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2329;
margin:0;background:#f5f6f8}
main{max-width:1040px;margin:0 auto;padding:28px 24px 48px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}
.sub{color:#5b6670;margin:0 0 20px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}
.card{background:#fff;border-radius:8px;padding:12px 14px;box-shadow:0 1px 2px #0001}
.card b{display:block;font-size:22px}.card span{color:#5b6670;font-size:13px}
table{border-collapse:collapse;width:100%;background:#fff;border-radius:8px;
box-shadow:0 1px 2px #0001;overflow:hidden}
th,td{padding:7px 10px;text-align:left;border-bottom:1px solid #eceef1;font-size:14px}
th{background:#fafbfc;color:#5b6670;font-weight:600}td.n{text-align:right;
font-variant-numeric:tabular-nums}
.chart{background:#fff;border-radius:8px;padding:8px;box-shadow:0 1px 2px #0001;margin:8px 0}
.chart svg{width:100%;height:auto}.warn{color:#b03a2e;font-weight:600}
footer{color:#8a949c;font-size:12px;margin-top:32px}
"""


def project_page(
    figures: ProjectFigures, generated_at: datetime, quality: ProjectQuality | None = None
) -> str:
    """The whole page for one project (`quality`: its agreement and per-rater
    reliability, None for a project whose answers have no quality figures)."""
    e = html.escape
    body = [
        f"<h1>{e(figures.title)}</h1>",
        f'<p class="sub">{e(figures.name)} · {e(figures.status)} · instructions'
        f" v{figures.instructions.current_version}</p>",
        _cards(figures, quality),
        *(_quality(quality) if quality is not None else []),
        "<h2>Work per contractor</h2>",
        _chart(_answers_svg(figures.contractors)),
        _contractor_table(figures.contractors),
        "<h2>Answers per instruction version</h2>",
        _version_table(figures),
        "<h2>Questions</h2>",
        _questions(figures),
        f"<footer>Generated {generated_at:%Y-%m-%d %H:%M} UTC by hdops.</footer>",
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(figures.title)} — hdops report</title><style>{STYLE}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>"
    )


def _cards(f: ProjectFigures, quality: ProjectQuality | None) -> str:
    done = f"{f.items_completed}/{f.items - f.gold_items}"
    gold = gold_text(f, quality)
    alpha = _alpha(quality.agreement) if quality is not None else "-"
    cards = [
        ("items complete", done),
        ("agreement (α)", alpha),
        ("accepted answers", str(f.answers)),
        ("contractors", str(len(f.contractors))),
        ("gold accuracy", gold),
        ("top 20 % share", f"{f.top_share:.0%}"),
        ("open questions", str(f.clarifications.asked - f.clarifications.resolved)),
    ]
    inner = "".join(
        f"<div class=card><b>{html.escape(v)}</b><span>{k}</span></div>" for k, v in cards
    )
    return f'<div class="cards">{inner}</div>'


def _alpha(figures: AlphaFigures) -> str:
    return "-" if figures.primary is None else f"{figures.primary:.2f}"


def _quality(q: ProjectQuality) -> list[str]:
    """Agreement per version and batch, then each rater's reliability."""
    level = "interval" if "interval" in q.agreement.levels else "nominal"
    groups = [("instruction version", g.key, g.alpha) for g in q.by_version]
    groups += [("batch", g.key or "(none)", g.alpha) for g in q.by_batch]
    group_rows = "".join(
        f"<tr><td>{kind}</td><td>{html.escape(key)}</td><td class=n>{a.items}</td>"
        f"<td class=n>{_alpha(a)}</td></tr>"
        for kind, key, a in groups
    )
    rows = "".join(_rater_row(r) for r in q.raters)
    offset_head = "<th>leniency</th>" if any(r.offset for r in q.raters) else ""
    return [
        f"<h2>Quality</h2><p>Krippendorff's alpha ({level}) over {q.agreement.items} items"
        f" answered more than once: <b>{_alpha(q.agreement)}</b>. Labels aggregated by"
        f" {html.escape(q.method)}.</p>",
        "<table><tr><th>group</th><th></th><th>items</th><th>α</th></tr>" + group_rows + "</table>",
        "<h2>Reliability per contractor</h2>",
        _chart(_gold_svg(q.raters)),
        "<table><tr><th>contractor</th><th>answers</th><th>gold (95 % CI)</th>"
        f"<th>agreement</th><th>model accuracy</th>{offset_head}<th>rejected</th></tr>"
        + rows
        + "</table>",
    ]


def _rater_row(r: RaterQuality) -> str:
    ci = r.gold.interval
    gold = "-"
    if r.gold.accuracy is not None and ci is not None:
        gold = f"{r.gold.accuracy:.0%} ({ci.low:.0%}–{ci.high:.0%}) of {r.gold.answered}"
    agreement = "-" if r.agreement is None else f"{r.agreement:.0%}"
    model = "-" if r.model_accuracy is None else f"{r.model_accuracy:.0%}"
    offset = ""
    if r.offset is not None:
        spread = (
            ""
            if r.offset.interval is None
            else (f" ({r.offset.interval.low:+.2f}…{r.offset.interval.high:+.2f})")
        )
        offset = f"<td class=n>{r.offset.value:+.2f}{spread}</td>"
    return (
        f"<tr><td>{html.escape(r.display_name)}</td><td class=n>{r.answers}</td>"
        f"<td class=n>{gold}</td><td class=n>{agreement}</td><td class=n>{model}</td>"
        f"{offset}<td class=n>{r.rejections}</td></tr>"
    )


def _gold_svg(raters: Sequence[RaterQuality]) -> str:
    """Gold accuracy per contractor with its 95 % Wilson interval."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    shown = [r for r in raters if r.gold.accuracy is not None and r.gold.interval is not None]
    fig = Figure(figsize=(9, max(1.6, 0.32 * len(shown) + 0.8)), dpi=100)
    FigureCanvasSVG(fig)
    ax = fig.add_subplot()
    for y, r in enumerate(shown):
        ci = r.gold.interval
        assert ci is not None and r.gold.accuracy is not None
        ax.plot([ci.low, ci.high], [y, y], color="#9aa5ae", linewidth=3)
        ax.plot([r.gold.accuracy], [y], "o", color="#2e86c1")
    ax.set_yticks(range(len(shown)), [r.display_name for r in shown])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("gold accuracy (95 % interval)" if shown else "no gold answered yet")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return _svg(fig)


def _contractor_table(rows: Sequence[ContractorFigures]) -> str:
    head = (
        "<tr><th>contractor</th><th>answers</th><th>gold</th><th>median s</th>"
        "<th>questions</th><th>skips</th><th>status</th></tr>"
    )
    lines = []
    for c in rows:
        gold = "-" if c.gold_accuracy is None else f"{c.gold_accuracy:.0%} of {c.gold_answered}"
        secs = "-" if c.median_seconds is None else f"{c.median_seconds:.0f}"
        status = html.escape(c.status)
        if c.status == "failed":
            status = f'<span class="warn">{status}</span>'
        lines.append(
            f"<tr><td>{html.escape(c.display_name)}</td><td class=n>{c.answers}</td>"
            f"<td class=n>{gold}</td><td class=n>{secs}</td><td class=n>{c.questions}</td>"
            f"<td class=n>{c.skips}</td><td>{status}</td></tr>"
        )
    return f"<table>{head}{''.join(lines)}</table>"


def _version_table(f: ProjectFigures) -> str:
    rows = "".join(
        f"<tr><td>v{v}</td><td class=n>{n}</td></tr>" for v, n in f.instructions.answers_by_version
    )
    return f"<table><tr><th>version</th><th>answers</th></tr>{rows}</table>"


def _questions(f: ProjectFigures) -> str:
    c = f.clarifications
    wait = "-" if c.median_first_answer is None else f"{c.median_first_answer / 60:.0f} min"
    faq = "".join(f"<li>{html.escape(q)}</li>" for q in f.instructions.faq)
    return (
        f"<p>{c.asked} asked, {c.answered} answered, {c.resolved} resolved,"
        f" {c.escalated} escalated; median wait for a first answer {wait}.</p>"
        + (f"<p>FAQ of the current instructions:</p><ul>{faq}</ul>" if faq else "")
    )


def _chart(svg: str) -> str:
    return f'<div class="chart">{svg}</div>'


def _answers_svg(rows: Sequence[ContractorFigures]) -> str:
    """Bars of accepted answers per contractor, most first, failed ones in red."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    names = [c.display_name for c in rows] or ["nobody yet"]
    counts = [c.answers for c in rows] or [0]
    colors = ["#c0392b" if c.status == "failed" else "#2e86c1" for c in rows] or ["#2e86c1"]
    fig = Figure(figsize=(9, max(1.6, 0.32 * len(names) + 0.8)), dpi=100)
    FigureCanvasSVG(fig)
    ax = fig.add_subplot()
    ax.barh(range(len(names)), counts, color=colors)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel("accepted answers")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return _svg(fig)


def _svg(fig: object) -> str:
    """The figure as an inline <svg> element (no XML prolog, no date, text as paths)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})  # type: ignore[attr-defined]
    text = buffer.getvalue()
    return text[text.index("<svg") :]
