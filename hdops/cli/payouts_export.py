"""Payout weeks shaped for output: the CSV written for payment and the JSON of
`--json`.

Changes when an output format changes (a column, a field), never when pay is
computed differently. Money is written as exact decimal strings, never floats.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from hdops.domain.money import money_text, rate_text
from hdops.domain.payouts import StatementView, WeekView, format_hours, quantity_text
from hdops.files import replacing
from hdops.services.export import neutralize_csv_cell

EXPORT_COLUMNS = (
    "week",
    "statement_id",
    "status",
    "person",
    "display_name",
    "currency",
    "line",
    "kind",
    "project",
    "description",
    "quantity",
    "unit_amount",
    "amount",
    "statement_total",
)


def export_rows(view: WeekView) -> list[list[str]]:
    """One row per statement line. Text cells are neutralised against spreadsheet
    formulas; numbers are ours (a negative amount must stay a number)."""
    rows = []
    for s in view.statements:
        for line in s.lines:
            rows.append(
                [
                    str(view.week),
                    str(s.id),
                    s.status,
                    neutralize_csv_cell(s.name),
                    neutralize_csv_cell(s.display_name),
                    s.currency,
                    str(line.position),
                    line.kind,
                    neutralize_csv_cell(line.project),
                    neutralize_csv_cell(line.description),
                    quantity_text(line.kind, line.quantity),
                    rate_text(line.unit_amount, s.currency),
                    money_text(line.amount, s.currency),
                    money_text(s.total, s.currency),
                ]
            )
    return rows


def write_csv(view: WeekView, out: Path) -> int:
    """Write the week's statement lines to `out` (atomically); the number of lines."""
    rows = export_rows(view)
    with replacing(out) as partial, partial.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(rows)
    return len(rows)


def view_json(view: WeekView) -> dict[str, Any]:
    """The week for scripts: money as exact decimal strings, never floats."""

    def statement(s: StatementView) -> dict[str, Any]:
        rate = s.effective_hourly
        return {
            "id": s.id,
            "person": s.name,
            "display_name": s.display_name,
            "currency": s.currency,
            "status": s.status,
            "tasks": s.tasks,
            "hours": f"{s.hours:f}",
            "active_hours": format_hours(s.active_seconds),
            "total": money_text(s.total, s.currency),
            "effective_hourly": None if rate is None else money_text(rate, s.currency),
            "below_floor": s.below_floor,
            "lines": [
                {
                    "id": line.id,
                    "position": line.position,
                    "kind": line.kind,
                    "description": line.description,
                    "quantity": quantity_text(line.kind, line.quantity),
                    "unit_amount": rate_text(line.unit_amount, s.currency),
                    "amount": money_text(line.amount, s.currency),
                    "open_dispute": line.open_dispute,
                }
                for line in s.lines
            ],
        }

    return {
        "week": str(view.week),
        "timezone": view.tz,
        "starts": view.week.start(view.tz).isoformat(),
        "ends": view.week.end(view.tz).isoformat(),
        "status": view.status,
        "ended": view.ended,
        "approved_at": view.approved_at.isoformat() if view.approved_at else None,
        "approved_by": view.approved_by,
        "floor": None if view.floor is None else rate_text(view.floor),
        "totals": {c: money_text(t, c) for c, t in view.totals.items()},
        "statements": [statement(s) for s in view.statements],
        "disputes": [
            {
                "id": d.id,
                "line_id": d.line_id,
                "person": d.person,
                "status": d.status,
                "reason": d.reason,
                "resolution": d.resolution,
            }
            for d in view.disputes
        ],
    }
