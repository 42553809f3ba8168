"""Instruction versions: what changed between two versions, in a few lines."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

MAX_SUMMARY_LINES = 8
MAX_LINE_CHARS = 160


def _clip(line: str) -> str:
    line = line.strip()
    return line if len(line) <= MAX_LINE_CHARS else line[: MAX_LINE_CHARS - 1] + "…"


def summarize_change(old: str, new: str) -> str:
    """A short human summary of a text change: counts, then the changed lines.

    Contractors read this in chat when instructions change, so it favours the
    added lines (what is new to them) and caps the length.
    """
    old_lines, new_lines = old.splitlines(), new.splitlines()
    added: list[str] = []
    removed: list[str] = []
    for line in difflib.unified_diff(old_lines, new_lines, lineterm="", n=0):
        if line.startswith(("+++", "---", "@@")):
            continue
        if line.startswith("+") and line[1:].strip():
            added.append(_clip(line[1:]))
        elif line.startswith("-") and line[1:].strip():
            removed.append(_clip(line[1:]))
    if not added and not removed:
        return "No visible change (whitespace only)."
    head = f"{len(added)} line(s) added, {len(removed)} removed."
    shown: list[str] = [f"+ {a}" for a in added] + [f"- {r}" for r in removed]
    extra = len(shown) - MAX_SUMMARY_LINES
    body = shown[:MAX_SUMMARY_LINES]
    if extra > 0:
        body.append(f"… and {extra} more change(s).")
    return "\n".join([head, *body])


def render_faq(entries: Sequence[tuple[str, str]]) -> str:
    """The FAQ section appended to instructions when shown."""
    if not entries:
        return ""
    parts = ["## FAQ"]
    for q, a in entries:
        parts.append(f"**Q:** {q}\n**A:** {a}")
    return "\n\n".join(parts)
