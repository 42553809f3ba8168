"""The one table style of the demo's report (a plain header rule, no frame), so
every section lines up the same at the report's fixed width."""

from __future__ import annotations

from rich import box
from rich.table import Table


def report_table() -> Table:
    return Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        header_style="bold",
        pad_edge=False,
        collapse_padding=True,
        padding=(0, 1),
    )
