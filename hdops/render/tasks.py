"""Task messages, their recorded/expired/skipped states, and the task forms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
    Message,
    Option,
    Paragraph,
)
from hdops.domain.tasks.base import TaskSettings
from hdops.domain.tasks.registry import get_task_type

SKIP_REASONS: dict[str, str] = {
    "unclear": "Unclear",
    "expertise": "Outside my expertise",
    "content": "Content problem",
    "other": "Other",
}
INSTRUCTIONS_PREVIEW_CHARS = 280


@dataclass(frozen=True)
class TaskView:
    """Everything a task message shows; built by the dispatch service."""

    assignment_id: int
    project_title: str
    project_name: str
    task_type: str
    settings: TaskSettings
    item_external_id: str
    fields: Sequence[tuple[str, str]]
    instruction_version: int
    instruction_version_id: int
    instructions_preview: str
    done_today: int
    project_done: int
    project_total: int
    lease_minutes: int
    # Left on the lease when the message is (re)sent; None: a new offer, the whole lease.
    seconds_left: int | None = None


def _preview(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= INSTRUCTIONS_PREVIEW_CHARS:
        return text
    return text[: INSTRUCTIONS_PREVIEW_CHARS - 1] + "…"


def task_message(view: TaskView) -> Message:
    task_type = get_task_type(view.task_type)
    parts: list[Any] = [Heading(text=f"{view.project_title} — item {view.item_external_id}")]
    for index, (name, value) in enumerate(view.fields):
        parts.append(
            FieldPart(
                label=name,
                value=value,
                full_text_action=actions.encode(actions.FULL, view.assignment_id, str(index)),
            )
        )
    controls: list[Any] = list(task_type.controls(view.settings, view.assignment_id))
    if view.settings.rationale != "none" and task_type.answer_form_fields(view.settings) == []:
        parts.append(Paragraph(text="After choosing, you'll be asked for a short rationale."))
    parts.append(Actions(controls=controls))
    parts.append(
        Actions(
            controls=[
                Button(action_id=actions.encode(actions.SKIP, view.assignment_id), label="Skip"),
                Button(
                    action_id=actions.encode(actions.ASK, view.assignment_id),
                    label="Ask a question",
                ),
                Button(
                    action_id=actions.encode(actions.INSTRUCTIONS, view.instruction_version_id),
                    label="Instructions",
                ),
            ]
        )
    )
    preview = _preview(view.instructions_preview)
    context = f"Instructions v{view.instruction_version}" + (f": {preview}" if preview else "")
    parts.append(Context(text=context))
    parts.append(
        Context(
            text=(
                f"Your tasks today: {view.done_today} · project {view.project_done}/"
                f"{view.project_total} items done · {held_text(view)}"
            )
        )
    )
    return Message(
        text=f"New task: {view.project_title} (item {view.item_external_id})", parts=parts
    )


def held_text(view: TaskView) -> str:
    """How long the task stays theirs: the whole lease on a new task, what is really
    left on one sent again (rounded down to the minute: never more than there is)."""
    left = view.seconds_left
    if left is None or left >= view.lease_minutes * 60:
        return f"held for you {view.lease_minutes} min"
    if left <= 0:
        return "its time is up: answer now, or it goes back to the pool"
    if left < 60:
        return "held for you less than a minute more"
    minutes = left // 60
    if minutes < 120:
        return f"held for you {minutes} more min"
    return f"held for you {minutes // 60} h {minutes % 60:02d} min more"


def _closed(view: TaskView, status_line: str) -> Message:
    parts: list[Any] = [Heading(text=f"{view.project_title} — item {view.item_external_id}")]
    for index, (name, value) in enumerate(view.fields):
        parts.append(
            FieldPart(
                label=name,
                value=value,
                full_text_action=actions.encode(actions.FULL, view.assignment_id, str(index)),
            )
        )
    parts.append(Paragraph(text=status_line))
    return Message(text=status_line, parts=parts)


def recorded_message(view: TaskView, answer: dict[str, Any], seconds: int) -> Message:
    described = get_task_type(view.task_type).describe(view.settings, answer)
    line = f"✓ Recorded: {described} ({seconds} s)"
    if answer.get("rationale"):
        line += f" — rationale: {answer['rationale']}"
    return _closed(view, line)


def skipped_message(view: TaskView, reason: str) -> Message:
    return _closed(view, f"Skipped ({SKIP_REASONS.get(reason, reason)}).")


def expired_message(view: TaskView) -> Message:
    return Message(
        text="This task's time ran out and it went back to the pool.",
        parts=[
            Heading(text=f"{view.project_title} — item {view.item_external_id}"),
            Paragraph(
                text=(
                    "This task's time ran out and it went back to the pool. If you were "
                    "writing an answer, you can still submit it; it is kept if the item "
                    "still needs answers."
                )
            ),
        ],
    )


def withdrawn_message(view: TaskView) -> Message:
    """A task taken back because its contractor was deactivated."""
    text = "This task was withdrawn and went back to the pool: your hdops access has ended."
    return Message(
        text=text,
        parts=[
            Heading(text=f"{view.project_title} — item {view.item_external_id}"),
            Paragraph(text=text),
        ],
    )


def text_answer_form(assignment_id: int, settings: TaskSettings, task_type: str) -> Form:
    fields = list(get_task_type(task_type).answer_form_fields(settings))
    fields += rationale_fields(settings)
    return Form(
        form_id=actions.encode(actions.F_TEXT, assignment_id),
        title="Your answer",
        fields=fields,
    )


def rationale_fields(settings: TaskSettings) -> list[FormField]:
    if settings.rationale == "none":
        return []
    return [
        FormField(
            name="rationale",
            label="Rationale" + (" (optional)" if settings.rationale == "optional" else ""),
            kind="long",
            required=settings.rationale == "required",
            max_length=2000,
        )
    ]


def rationale_form(assignment_id: int, settings: TaskSettings, value: str, described: str) -> Form:
    return Form(
        form_id=actions.encode(actions.F_RATIONALE, assignment_id, value),
        title="Why?",
        intro=f"Your answer: {described}",
        fields=rationale_fields(settings),
    )


def skip_form(assignment_id: int) -> Form:
    return Form(
        form_id=actions.encode(actions.F_SKIP, assignment_id),
        title="Skip this item",
        fields=[
            FormField(
                name="reason",
                label="Why skip it?",
                kind="select",
                options=[Option(label=v, value=k) for k, v in SKIP_REASONS.items()],
            ),
            FormField(
                name="note",
                label="Anything to add? (optional)",
                kind="long",
                required=False,
                max_length=1000,
            ),
        ],
        submit_label="Skip",
    )


def ask_form(assignment_id: int) -> Form:
    return Form(
        form_id=actions.encode(actions.F_ASK, assignment_id),
        title="Ask a question",
        intro="Your question goes to the project's researchers; their reply appears in "
        "the thread of this task. You can keep working meanwhile.",
        fields=[
            FormField(
                name="question", label="Your question", kind="long", min_length=3, max_length=3000
            )
        ],
        submit_label="Send",
    )


def full_text_message(view: TaskView, index: int) -> Message:
    name, value = view.fields[index]
    return Message(
        text=f"{name} (full text)",
        parts=[Heading(text=f"{name} — item {view.item_external_id}"), Paragraph(text=value)],
    )


def instructions_message(
    title: str, version: int, body: str, faq: Sequence[tuple[str, str]]
) -> Message:
    parts: list[Any] = [
        Heading(text=f"{title} — instructions v{version}"),
        Paragraph(text=body or "(none)"),
    ]
    if faq:
        parts.append(Heading(text="FAQ"))
        for q, a in faq:
            parts.append(FieldPart(label=f"Q: {q}", value=f"A: {a}"))
    return Message(text=f"{title} instructions v{version}", parts=parts)


def instructions_changed_message(title: str, version: int, summary: str) -> Message:
    return Message(
        text=f"Instructions for {title} changed (v{version})",
        parts=[
            Heading(text=f"Instructions updated: {title} (v{version})"),
            Paragraph(text=summary or "See the updated instructions."),
            Context(
                text=f"Your answers record v{version} from now on, including the task "
                "you have open."
            ),
        ],
    )
