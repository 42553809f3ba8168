"""A task's buttons and forms: answer, text answer, rationale, skip, ask, full
field text, instructions."""

from __future__ import annotations

from typing import Any

from hdops import actions
from hdops.chat import Reply
from hdops.errors import InvalidInput, NotFound
from hdops.interactions import Context, button, form
from hdops.render import tasks as task_render
from hdops.services import answers, clarifications, dispatch, scope
from hdops.services import projects as project_service
from hdops.store.orm import InstructionVersion, Project

CLOSED = "This task is already closed."


def _answered(ctx: Context, assignment_id: int, raw: dict[str, Any]) -> Reply:
    result = answers.submit_answer(ctx.session, ctx.person, assignment_id, raw, ctx.key, ctx.now)
    text = result.reply_text
    return Reply.say(text) if text else Reply.nothing()


def _project(ctx: Context, project_id: int) -> Project:
    project = ctx.session.get(Project, project_id)
    assert project is not None
    return project


@button(actions.ANSWER)
def answer(ctx: Context) -> Reply:
    assignment = answers.own_assignment(ctx.session, ctx.person, ctx.act.id)
    project = _project(ctx, assignment.project_id)
    settings = dispatch.settings_of(project)
    task_type = dispatch.task_type_of(project)
    raw = task_type.answer_from_action(settings, ctx.act.arg, ctx.values)
    if settings.rationale != "none" and assignment.status != "answered":
        # Check the choice now; the rationale comes in the form.
        task_type.validate_answer(settings, {**raw, "rationale": "-"})
        value = ctx.act.arg if ctx.act.arg is not None else "|".join(ctx.values)
        return Reply(
            form=task_render.rationale_form(
                assignment.id, settings, value, task_type.describe(settings, raw)
            )
        )
    return _answered(ctx, assignment.id, raw)


@button(actions.TEXT)
def text_form(ctx: Context) -> Reply:
    assignment = answers.own_assignment(ctx.session, ctx.person, ctx.act.id)
    project = _project(ctx, assignment.project_id)
    if assignment.status in ("answered", "skipped"):
        return Reply.say(CLOSED)
    return Reply(
        form=task_render.text_answer_form(
            assignment.id, dispatch.settings_of(project), project.task_type
        )
    )


@button(actions.SKIP)
def skip_form(ctx: Context) -> Reply:
    assignment = answers.own_assignment(ctx.session, ctx.person, ctx.act.id)
    if assignment.status in ("answered", "skipped"):
        return Reply.say(CLOSED)
    return Reply(form=task_render.skip_form(assignment.id))


@button(actions.ASK)
def ask_form(ctx: Context) -> Reply:
    assignment = answers.own_assignment(ctx.session, ctx.person, ctx.act.id)
    return Reply(form=task_render.ask_form(assignment.id))


@button(actions.FULL)
def full_text(ctx: Context) -> Reply:
    assignment = answers.own_assignment(ctx.session, ctx.person, ctx.act.id)
    view = dispatch.task_view(ctx.session, assignment, ctx.now)
    index = int(ctx.act.arg or 0)
    if not 0 <= index < len(view.fields):
        raise NotFound("That field does not exist.")
    return Reply(message=task_render.full_text_message(view, index))


@button(actions.INSTRUCTIONS)
def instructions(ctx: Context) -> Reply:
    version = ctx.session.get(InstructionVersion, ctx.act.id)
    if version is None:
        raise NotFound("Those instructions no longer exist.")
    project = _project(ctx, version.project_id)
    scope.require_see(ctx.session, ctx.person, project, "those instructions")
    current = project_service.current_version(ctx.session, project.id)
    return Reply(
        message=task_render.instructions_message(
            project.title,
            current.version,
            current.body,
            [(f.question, f.answer) for f in current.faq],
        )
    )


@form(actions.F_TEXT)
def text_answer(ctx: Context) -> Reply:
    assignment = answers.own_assignment(ctx.session, ctx.person, ctx.act.id)
    project = _project(ctx, assignment.project_id)
    settings = dispatch.settings_of(project)
    raw = dispatch.task_type_of(project).answer_from_form(settings, ctx.fields)
    if ctx.fields.get("rationale"):
        raw["rationale"] = ctx.fields["rationale"]
    return _answered(ctx, assignment.id, raw)


@form(actions.F_RATIONALE)
def rationale(ctx: Context) -> Reply:
    assignment = answers.own_assignment(ctx.session, ctx.person, ctx.act.id)
    project = _project(ctx, assignment.project_id)
    settings = dispatch.settings_of(project)
    values = (ctx.act.arg or "").split("|") if ctx.act.arg else []
    raw = dispatch.task_type_of(project).answer_from_action(settings, None, values)
    if ctx.fields.get("rationale", "").strip():
        raw["rationale"] = ctx.fields["rationale"]
    return _answered(ctx, assignment.id, raw)


@form(actions.F_SKIP)
def skip(ctx: Context) -> Reply:
    answers.skip_task(
        ctx.session,
        ctx.person,
        ctx.act.id,
        ctx.fields.get("reason", ""),
        ctx.fields.get("note"),
        ctx.now,
    )
    return Reply.nothing()


@form(actions.F_ASK)
def ask(ctx: Context) -> Reply:
    try:
        clar = clarifications.open_clarification(
            ctx.session, ctx.person, ctx.act.id, ctx.fields.get("question", ""), ctx.now
        )
    except InvalidInput as exc:
        raise InvalidInput(exc.message, [f"question: {exc.message}"]) from None
    return Reply.say(f"Question #{clar.id} sent. Replies appear in the task's thread.")
