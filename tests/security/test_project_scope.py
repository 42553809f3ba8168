"""Issue 11 point 8: ids from chat reach only what their sender may reach.

A crafted `hd:instr:<version>` button showed another project's instructions to a
contractor not on it, and a researcher not listed on a project could pause and
resume it. Now a contractor sees a project's instructions once given one of its
tasks; a researcher acts on the projects listing them (ops on all); every
refusal is audited as `access.denied` and changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select

from hdops import actions
from hdops.store.orm import AuditEntry, Clarification, InstructionVersion, Project
from tests.flows.conftest import Harness
from tests.helpers import add_items, contractor, make_project, ops, researcher

SECRET_RULE = "Secret rubric: prefer the response that mentions Project Falcon."


def _world(h: Harness) -> tuple[int, int]:
    """Two projects: `helpful-pairs` (rita's) and `falcon` (rex's, secret rules).
    Returns the instruction-version ids of helpful-pairs and falcon."""
    with h.store.unit_of_work() as s:
        mine = make_project(s)
        other = make_project(
            s,
            name="falcon",
            title="Falcon",
            instructions=SECRET_RULE,
            researchers=["console:rex"],
            clarifications={"console_channel": "falcon-questions"},
        )
        add_items(s, mine, 4)
        add_items(s, other, 4, prefix="f")
        contractor(s, "alice")
        researcher(s, "rita")
        researcher(s, "rex")
        ops(s, "otto")
        s.flush()
        versions = {
            name: s.scalars(
                select(InstructionVersion.id)
                .join(Project, Project.id == InstructionVersion.project_id)
                .where(Project.name == name)
            ).one()
            for name in ("helpful-pairs", "falcon")
        }
        # alice works on helpful-pairs only
        s.execute(
            Project.__table__.update().where(Project.name == "falcon").values(status="paused")
        )
    return versions["helpful-pairs"], versions["falcon"]


def _denials(h: Harness) -> list[str]:
    with h.store.unit_of_work() as s:
        return list(
            s.scalars(select(AuditEntry.subject).where(AuditEntry.action == "access.denied"))
        )


def _status(h: Harness, name: str) -> str:
    with h.store.unit_of_work() as s:
        return s.scalars(select(Project.status).where(Project.name == name)).one()


async def test_a_crafted_instructions_id_shows_nothing_of_a_project_one_is_not_on(
    harness: Harness,
) -> None:
    h = harness
    mine, theirs = _world(h)
    h.chat.command("alice", "next")
    await h.flush()
    assert h.chat.open_tasks("alice")  # alice was given a helpful-pairs task

    own = h.core.action("console:alice", actions.encode(actions.INSTRUCTIONS, mine), [], "e1")
    assert own.message is not None and "Pick the more helpful response" in own.message.plain()

    crafted = h.core.action("console:alice", actions.encode(actions.INSTRUCTIONS, theirs), [], "e2")
    assert crafted.message is not None
    assert SECRET_RULE not in crafted.message.plain()
    assert "not on the project" in crafted.message.plain()
    assert any("falcon" in d for d in _denials(h))

    # its researcher and ops may read it
    for who in ("rex", "otto"):
        shown = h.core.action(
            f"console:{who}", actions.encode(actions.INSTRUCTIONS, theirs), [], who
        )
        assert shown.message is not None and SECRET_RULE in shown.message.plain()


async def test_a_researcher_acts_only_on_their_own_projects(harness: Harness) -> None:
    h = harness
    _world(h)
    refused = h.chat.command("rita", "/hdops project resume falcon")
    assert refused.message is not None
    assert "Only ops or a researcher of falcon" in refused.message.plain()
    assert _status(h, "falcon") == "paused"
    h.chat.command("rita", "/hdops project status falcon")
    assert "Only ops or a researcher of falcon" in h.chat.last_notice("rita") or ""
    assert len([d for d in _denials(h) if "falcon" in d]) == 2

    h.chat.command("rita", "/hdops project pause helpful-pairs")  # her own
    assert _status(h, "helpful-pairs") == "paused"
    h.chat.command("rex", "/hdops project resume falcon")  # his own
    assert _status(h, "falcon") == "active"
    for who in ("otto",):  # ops act on every project
        said = h.chat.command(who, "/hdops project pause falcon").message
        assert _status(h, "falcon") == "paused", said
        h.chat.command(who, "/hdops project resume falcon")
        assert _status(h, "falcon") == "active"


async def test_another_teams_researcher_cannot_answer_resolve_or_list_a_question(
    harness: Harness,
) -> None:
    h = harness
    _world(h)
    h.chat.command("alice", "next")
    await h.flush()
    task_id = h.chat.open_tasks("alice")[0].id
    h.chat.press("alice", task_id, "Ask a question")
    h.chat.submit("alice", {"question": "Is a tie allowed?"})
    await h.flush()
    post = h.chat.channel("clarifications")[-1]
    with h.store.unit_of_work() as s:
        clar_id = s.scalars(select(Clarification.id)).one()

    before = len(h.chat.thread(task_id))
    refused = h.chat.reply("rex", post.id, "Yes, ties are fine")
    assert refused.message is not None and "researcher of helpful-pairs" in refused.message.plain()
    resolve = h.core.action("console:rex", actions.encode(actions.RESOLVE, clar_id), [], "r1")
    assert resolve.message is not None and "researcher of helpful-pairs" in resolve.message.plain()
    faq = h.core.action("console:rex", actions.encode(actions.FAQ, clar_id), [], "r2")
    assert faq.form is None
    await h.flush()
    assert len(h.chat.thread(task_id)) == before  # nothing relayed to alice
    with h.store.unit_of_work() as s:
        assert s.scalars(select(Clarification.status)).one() == "open"

    listed = h.chat.command("rex", "/hdops clarifications")
    assert listed.message is not None and "Is a tie allowed?" not in listed.message.plain()
    named = h.chat.command("rex", "/hdops clarifications helpful-pairs")
    assert named.message is not None and "Is a tie allowed?" not in named.message.plain()
    shown = h.chat.command("rita", "/hdops clarifications")
    assert shown.message is not None and "Is a tie allowed?" in shown.message.plain()

    # rita, listed on the project, resolves it
    h.chat.press("rita", post.id, "Resolve")
    with h.store.unit_of_work() as s:
        assert s.scalars(select(Clarification.status)).one() == "resolved"
