"""What a contractor is told when there is no task for them, and why (SPEC §5)."""

from __future__ import annotations

from hdops.chat import Heading, Message, Paragraph
from hdops.domain.no_task import Blocked, NoTask

HEADING = "No task for you right now"
# Reasons that last until ops act (the reason says so); the others may pass by themselves.
LASTING = frozenset({"skills", "failed"})


def _skills(missing: tuple[str, ...]) -> str:
    if len(missing) == 1:
        return f"the skill {missing[0]}, which is not on your profile (ops can add it)"
    listed = ", ".join(missing[:-1]) + f" and {missing[-1]}"
    return f"the skills {listed}, which are not on your profile (ops can add them)"


def _accuracy(b: Blocked) -> str:
    """'your accuracy on check items is 60% (3 of 5 right; 80% needed)'."""
    accuracy = b.gold_correct / b.gold_answered if b.gold_answered else 0.0
    which = f"your last {b.gold_answered} check items" if b.gold_recent else "check items"
    return (
        f"your accuracy on {which} is {accuracy:.0%} ({b.gold_correct} of "
        f"{b.gold_answered} right; {b.accuracy_needed:.0%} needed)"
    )


def reason(b: Blocked) -> str:
    """One project's reason, as a sentence after its title."""
    if b.kind == "paused":
        return "paused by ops for now."
    if b.kind == "skills":
        return f"needs {_skills(b.missing_skills)}."
    if b.kind == "failed":
        return (
            f"{_accuracy(b)}, so it gives you only check items until that is back up, and "
            "it has none left for you. Ops can tell you more."
        )
    if b.kind == "no_gold":
        return (
            f"you have answered all {b.gold_answered} of its check items and {b.gold_needed} "
            "are needed to qualify; ops can add more."
        )
    if b.kind == "share":
        return (
            f"you have given the most of its answers one person may ({b.share_cap:.0%}); "
            "more once others catch up."
        )
    if b.kind == "even":
        return (
            "its remaining work is shared out evenly, and you have given more of its answers "
            "this week than the others working on it; more once they catch up."
        )
    if b.kind == "held":
        return (
            "the items it has left are with other contractors right now; any that come "
            "back will be offered."
        )
    return "no items left that you have not done."


def why_no_task(no_task: NoTask, *, resumed: bool = False) -> Message:
    """The reply to `/hdops next` (or `resume`) and the message a push sends when it
    finds nothing: every project's reason, so nobody is cut off without a word."""
    lead = "Resumed. " if resumed else ""
    if no_task.profile_status == "inactive":
        text = (
            f"{lead}Your hdops work has ended (deactivated by ops), so no tasks are offered "
            "to you. Ask ops if this is a mistake."
        )
        return Message(text=text, parts=[Paragraph(text=text)])
    if no_task.profile_status is not None:
        text = (
            f"{lead}Your contractor profile is {no_task.profile_status}, so no tasks are "
            "offered to you. Ops can change that."
        )
        return Message(text=text, parts=[Paragraph(text=text)])
    if no_task.unavailable:
        text = (
            "No new task comes now: you are not taking tasks (you paused, or your shift "
            "ended). /hdops next gets you one, /hdops resume turns them back on."
        )
        return Message(text=text, parts=[Paragraph(text=text)])
    if not no_task.blocked:
        text = (
            f"{lead}There are no projects with work right now. You'll get a task when there is one."
        )
        return Message(text=text, parts=[Paragraph(text=text)])
    lines = [f"• {b.project_title}: {reason(b)}" for b in no_task.blocked]
    heading = f"{lead}{HEADING}"
    parts = [Heading(text=heading), Paragraph(text="\n".join(lines))]
    if any(b.kind not in LASTING for b in no_task.blocked):  # work may come by itself
        parts.append(Paragraph(text="You'll get a task as soon as there is one for you."))
    return Message(text=f"{heading}: " + " ".join(lines), parts=parts)


def disqualified(b: Blocked) -> Message:
    """Told once, when a contractor falls under a project's bar and still has work
    (else the no-task reasons say it): what their figure is, and what follows."""
    text = (
        f"{b.project_title}: {_accuracy(b)}, so it gives you only check items until "
        "that is back up; your regular work there pauses until then. Ops can tell you more."
    )
    return Message(text=text, parts=[Paragraph(text=text)])
