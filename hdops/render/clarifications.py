"""Clarification posts, escalations and FAQ announcements (relayed replies: `relay.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from hdops import actions
from hdops.chat import (
    Actions,
    Button,
    Context,
    FieldPart,
    Form,
    FormField,
    Heading,
    Mention,
    Message,
    Paragraph,
    Table,
    defang_mentions,
)
from hdops.domain.clarifications import ClarificationSummary

LIST_LIMIT = 25  # questions a chat list shows (the newest); the CLI lists them all
QUESTION_CHARS = 60


def question_post(
    clarification_id: int,
    project_title: str,
    item_external_id: str,
    asker: str,
    question: str,
    fields: Sequence[tuple[str, str]],
    on_call: Sequence[str] = (),
    resolved_by: str | None = None,
) -> Message:
    parts: list[Any] = [
        Heading(text=f"Question #{clarification_id} — {project_title}, item {item_external_id}"),
        FieldPart(label=f"{defang_mentions(asker)} asks", value=defang_mentions(question)),
    ]
    for name, value in fields:
        parts.append(FieldPart(label=name, value=value))
    if on_call:
        parts.append(Mention(identities=list(on_call), text="on call for this project"))
    if resolved_by is None:
        parts.append(
            Actions(
                controls=[
                    Button(
                        action_id=actions.encode(actions.RESOLVE, clarification_id),
                        label="Resolve",
                        style="primary",
                    ),
                    Button(
                        action_id=actions.encode(actions.FAQ, clarification_id), label="Add to FAQ"
                    ),
                ]
            )
        )
        parts.append(Context(text="Reply in this thread; replies go to the contractor."))
    else:
        parts.append(Paragraph(text=f"✓ Resolved by {defang_mentions(resolved_by)}"))
        parts.append(
            Actions(
                controls=[
                    Button(
                        action_id=actions.encode(actions.FAQ, clarification_id), label="Add to FAQ"
                    )
                ]
            )
        )
    return Message(text=f"Question from {defang_mentions(asker)} on {project_title}", parts=parts)


def question_sent(clarification_id: int) -> Message:
    text = (
        f"Your question (#{clarification_id}) went to the researchers. Their replies appear "
        "in this thread, and you can reply here too. Meanwhile this item waits for you — "
        "here is another task."
    )
    return Message(text=text, parts=[Paragraph(text=text)])


def resolved_for_contractor(clarification_id: int, by: str) -> Message:
    text = (
        f"Your question #{clarification_id} was resolved by {defang_mentions(by)}. "
        "You can answer this item now: here, or when it comes back as your next task."
    )
    return Message(text=text, parts=[Paragraph(text=text)])


def escalation(identities: Sequence[str], minutes: int, clarification_id: int) -> Message:
    text = f"Question #{clarification_id} has waited {minutes} min without an answer."
    return Message(text=text, parts=[Mention(identities=list(identities), text=text)])


def escalation_to_ops(project_title: str, clarification_id: int, minutes: int) -> Message:
    text = (
        f"Question #{clarification_id} on {project_title} is still unanswered after {minutes} min."
    )
    return Message(text=text, parts=[Paragraph(text=text)])


def faq_form(clarification_id: int, question: str, answer: str) -> Form:
    return Form(
        form_id=actions.encode(actions.F_FAQ, clarification_id),
        title="Add to FAQ",
        fields=[
            FormField(
                name="question",
                label="Question",
                kind="long",
                initial=question[:3000],
                max_length=3000,
            ),
            FormField(
                name="answer",
                label="Answer",
                kind="long",
                initial=answer[:3000] or None,
                max_length=3000,
            ),
        ],
        submit_label="Add",
    )


def faq_added(project_title: str, version: int, question: str, answer: str) -> Message:
    return Message(
        text=f"New FAQ entry for {project_title} (instructions v{version})",
        parts=[
            Heading(text=f"New FAQ entry — {project_title}"),
            FieldPart(label="Q", value=defang_mentions(question)),
            FieldPart(label="A", value=defang_mentions(answer)),
            Context(
                text=f"Now part of the instructions (v{version}); your answers in this "
                f"project record v{version} from now on."
            ),
        ],
    )


def duration_text(delta: timedelta | None) -> str:
    """`42 min`, `3 h 05 min`; `-` for none."""
    if delta is None:
        return "-"
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"


def first_answer_text(row: ClarificationSummary, now: datetime) -> str:
    """Time to the first answer, or how long it has waited for one."""
    if row.first_answered_at is not None:
        return duration_text(row.time_to_first_answer)
    if row.status == "open":
        return f"waiting {duration_text(now - row.opened_at)}"
    return "-"


def median_line(rows: Sequence[ClarificationSummary]) -> str | None:
    answered = [r.time_to_first_answer for r in rows if r.time_to_first_answer is not None]
    if not answered:
        return None
    middle = timedelta(seconds=median(a.total_seconds() for a in answered))
    return f"{len(rows)} question(s); median time to first answer {duration_text(middle)}"


def clarification_list(
    rows: Sequence[ClarificationSummary], now: datetime, *, only_open: bool, project: str | None
) -> Message:
    """`/hdops clarifications`: the questions with their ids and time to first answer."""
    what = "Open questions" if only_open else "Questions"
    title = f"{what} — {project}" if project else what
    if not rows:
        text = f"{title}: none."
        return Message(text=text, parts=[Paragraph(text=text)])
    shown = list(rows)[-LIST_LIMIT:]
    table = Table(
        columns=["id", "project", "asked by", "status", "first answer", "question"],
        rows=[
            [
                f"#{r.id}",
                r.project,
                defang_mentions(r.asked_by),
                r.status,
                first_answer_text(r, now),
                defang_mentions(_short(r.question)),
            ]
            for r in shown
        ],
    )
    parts: list[Any] = [Heading(text=title), table]
    notes = []
    if len(shown) < len(rows):
        notes.append(f"The latest {len(shown)} of {len(rows)}; hdops clarifications lists all.")
    if (line := median_line(rows)) is not None:
        notes.append(line + ".")
    notes.append("Reply in a question's thread (in the local chat: /reply #ID TEXT).")
    parts.append(Context(text=" ".join(notes)))
    return Message(text=f"{title}: {len(rows)}", parts=parts)


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUESTION_CHARS else flat[: QUESTION_CHARS - 1] + "…"
