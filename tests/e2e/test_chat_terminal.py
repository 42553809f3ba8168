"""`hdops chat --as PERSON` driven like a user would, with a transcript piped in.

Each test seeds a database, pipes lines into `hdops chat` (stdin is not a terminal,
so the lines are echoed as `> …`) and reads the transcript it prints."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

import bots.cli  # noqa: F401  (the composition root adds `hdops chat`)
from bots.local.terminal import Terminal, next_message_number, pick_options
from hdops.chat import Option, Reply, Select
from hdops.cli.main import app
from hdops.config import Settings
from hdops.services.people import add_person, get_person
from hdops.store.db import Store
from hdops.store.orm import Answer, Assignment, AuditEntry, Clarification, ClarificationMessage
from tests.helpers import add_items, contractor, make_project, researcher

Chat = Callable[..., Result]


@pytest.fixture
def chat(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Chat:
    """`chat("alice", "line", "line", …)` runs one `hdops chat --as alice` session."""
    monkeypatch.setenv("HDOPS_DATABASE_URL", db_url)

    def run(person: str, *lines: str) -> Result:
        script = "".join(f"{line}\n" for line in lines)
        return CliRunner().invoke(app, ["chat", "--as", person], input=script)

    return run


@pytest.fixture
def pairs(store: Store) -> Store:
    """helpful-pairs with 3 items; alice (contractor) and rita (its researcher)."""
    with store.unit_of_work() as s:
        project = make_project(s)
        add_items(s, project, 3)
        contractor(s, "alice")
        researcher(s, "rita")
    return store


def lines_after(output: str, echo: str) -> list[str]:
    """The lines printed in answer to the input line `echo` (up to the next input)."""
    lines = output.splitlines()
    start = lines.index(f"> {echo}".rstrip()) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith(">")), len(lines))
    return lines[start:end]


def test_alice_gets_a_task_presses_1_and_gets_the_next(chat: Chat, pairs: Store) -> None:
    result = chat("alice", "/hdops next", "1")
    out = result.output
    assert result.exit_code == 0, out
    assert "-- chatting as alice (console:alice; contractor) --" in out
    assert "(only you) Your next task is in your direct messages." in out
    first = lines_after(out, "/hdops next")
    assert "[m1] hdops in your DM:" in first
    assert "  == Helpfulness comparisons — item it-0 ==" in first
    assert "  [1] A is better  [2] B is better  [3] Tie" in first
    assert "  [4] Skip  [5] Ask a question  [6] Instructions" in first

    after = "\n".join(lines_after(out, "1"))
    assert "(updated m1) hdops in your DM:" in after
    assert "✓ Recorded: A is better" in after
    assert re.search(r"\[m\d+\] hdops in your DM:\n  == Helpfulness comparisons — item it-1", after)
    with pairs.unit_of_work() as s:
        assert s.scalars(select(Answer.answer)).all() == [{"choice": "a"}]


def test_question_goes_to_the_researcher_and_the_reply_comes_back(chat: Chat, pairs: Store) -> None:
    result = chat(
        "alice",
        "/hdops next",
        "5",  # Ask a question
        "Which response counts as the first one?",
        "/as rita",
        "/reply m2 Use the first one",
        "/as alice",
        "/reply m1 Thanks, got it",
        "/as rita",
        "1",  # Resolve
        "/as alice",
    )
    out = result.output
    assert result.exit_code == 0, out
    asked = "\n".join(lines_after(out, "Which response counts as the first one?"))
    assert "(only you) Question #1 sent." in asked
    assert "hdops in your DM, thread m1:" in asked

    rita = "\n".join(lines_after(out, "/as rita"))
    assert "-- chatting as rita (console:rita; researcher) --" in rita
    assert "[m2] hdops in #clarifications:" in rita, out
    assert "Question #1 — Helpfulness comparisons, item it-0" in rita
    assert "alice asks: Which response counts as the first one?" in rita
    assert "[1] Resolve  [2] Add to FAQ" in rita

    alice = "\n".join(lines_after(out, "/as alice"))
    assert "hdops in your DM, thread m1:\n  rita (researcher): Use the first one" in alice

    # alice's reply in her task thread is relayed into the researchers' thread
    rita_again = out.split("> /as rita")[2]
    assert "hdops in #clarifications, thread m2:" in rita_again
    assert "alice (contractor): Thanks, got it" in rita_again
    assert "(only you) Resolved." in rita_again
    assert "(updated m2) hdops in #clarifications:" in rita_again
    assert "✓ Resolved by rita" in rita_again

    alice_again = out.split("> /as alice")[2]
    assert "Your question #1 was resolved by rita" in alice_again
    with pairs.unit_of_work() as s:
        clar = s.scalars(select(Clarification)).one()
        assert clar.question == "Which response counts as the first one?"


def test_bad_input_gets_one_clear_line_each(chat: Chat, pairs: Store) -> None:
    bad = ["hello there", "/frobnicate", "7", "/reply m99 hi", "/hdops bogus", "/as", "3@m42"]
    result = chat("alice", *bad, "/hdops next", "9", "1 tie")
    out = result.output
    assert result.exit_code == 0, out
    for line in bad:
        said = lines_after(out, line)
        assert len(said) == 1, (line, said)
    assert lines_after(out, "hello there") == [
        "I don't understand 'hello there': type a button number, /hdops help for "
        "commands, or /help."
    ]
    assert lines_after(out, "/frobnicate")[0].startswith("Unknown command /frobnicate")
    assert lines_after(out, "7") == ["No message with buttons yet. Try /hdops next."]
    assert lines_after(out, "/reply m99 hi") == ["There is no message m99 here."]
    assert lines_after(out, "/hdops bogus")[0].startswith("(only you) Unknown command `bogus`")
    assert lines_after(out, "9") == ["m1 has buttons 1 to 6; there is no 9."]
    assert lines_after(out, "1 tie") == ["[1] is a button; type just 1 to press it."]


def test_unknown_person_fails_with_one_line(chat: Chat, pairs: Store) -> None:
    result = chat("nobody", "/hdops next")
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: no person 'nobody': add one with "
        "`hdops person add nobody --console nobody --role contractor`"
    ]


def test_a_person_with_only_a_slack_id_can_chat_too(chat: Chat, pairs: Store) -> None:
    with pairs.unit_of_work() as s:
        add_person(s, "sam", identities=["slack:U0SAM"], roles=["contractor"])
        add_person(s, "zed", identities=["console:zoe"], roles=["researcher"])
        zoe = add_person(s, "Zoe", identities=["discord:777"], roles=["contractor"])
        zoe_console = f"console:zoe-{zoe.id}"
    result = chat("slack:U0SAM", "/hdops next", "1")
    out = result.output
    assert result.exit_code == 0, out
    assert out.splitlines()[0] == (
        "-- sam had no console identity; gave them console:sam so this chat can reach them "
        "(hdops person update sam --remove-identity console:sam takes it away) --"
    )
    assert "-- chatting as sam (console:sam; contractor) --" in out
    assert "[m1] hdops in your DM:" in out and "✓ Recorded: A is better" in out
    again = chat("sam", "/hdops next")  # the second time it is just there
    assert "had no console identity" not in again.output
    # The person's name's console id taken by someone else: a free one, with their id.
    taken = chat("discord:777", "/quit")
    assert f"gave them {zoe_console} so this chat" in taken.output
    assert f"-- chatting as Zoe ({zoe_console}; contractor) --" in taken.output
    with pairs.unit_of_work() as s:
        sam = get_person(s, "sam")
        assert [i.key for i in sam.identities] == ["slack:U0SAM", "console:sam"]
        [added] = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "person.identity_add", AuditEntry.subject == "sam"
            )
        ).all()
        assert added.details["identity"] == "console:sam"
        assert added.details["via"] == "hdops chat"
        assert s.scalars(select(Answer.answer)).all() == [{"choice": "a"}]


def test_skip_form_asks_field_by_field_and_re_asks_bad_answers(chat: Chat, pairs: Store) -> None:
    result = chat("alice", "/hdops next", "4", "bored", "1", "", "/quit", "/hdops next")
    out = result.output
    assert result.exit_code == 0, out
    form = lines_after(out, "4")
    assert form[0] == "-- form: Skip this item (/cancel to close it) --"
    assert form[1] == "Why skip it?"
    assert form[2].startswith("  choose one: 1) Unclear  2) Outside my expertise")
    assert lines_after(out, "bored")[0].startswith("  ! Choose one of: Unclear,")
    assert lines_after(out, "1")[-1] == "Anything to add? (optional) [empty to skip]:"
    done = "\n".join(lines_after(out, ""))
    assert "(updated m1) hdops in your DM:" in done and "Skipped (Unclear)." in done
    assert "item it-1" in done
    assert out.rstrip().endswith("> /quit")  # nothing after /quit is read
    with pairs.unit_of_work() as s:
        skipped = s.scalars(select(Assignment).where(Assignment.status == "skipped")).one()
        assert skipped.skip_reason == "unclear"


def test_cancel_closes_a_form_and_commands_wait_for_it(chat: Chat, pairs: Store) -> None:
    result = chat("alice", "/hdops next", "5", "/as rita", "/cancel", "1")
    out = result.output
    assert result.exit_code == 0, out
    assert lines_after(out, "/as rita") == [
        "  ! Finish this form first, or /cancel it.",
        "Your question:",
    ]
    assert lines_after(out, "/cancel") == ["(form closed)"]
    assert "✓ Recorded: A is better" in out
    with pairs.unit_of_work() as s:
        assert s.scalars(select(Clarification)).all() == []


def test_rating_select_and_rationale_form(chat: Chat, store: Store) -> None:
    with store.unit_of_work() as s:
        project = make_project(
            s,
            name="rate",
            title="Rate it",
            task={
                "type": "rating",
                "fields": ["text"],
                "scale": {"min": 0, "max": 10, "labels": {"0": "awful", "10": "great"}},
                "rationale": "optional",
            },
        )
        add_items(s, project, 2)
        contractor(s, "bob")
    result = chat("bob", "/hdops next", "1 11", "1 great", "clear and kind", "1@m1 3")
    out = result.output
    assert result.exit_code == 0, out
    assert "  [1] Choose a rating: 0 (awful), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 (great)" in out
    assert lines_after(out, "1 11")[0].startswith("No option '11' in 'Choose a rating'")
    assert lines_after(out, "1 great")[:3] == [
        "-- form: Why? (/cancel to close it) --",
        "  Your answer: Rating 10 (great)",
        "Rationale (optional) [empty to skip]:",
    ]
    assert "✓ Recorded: Rating 10 (great)" in out and "rationale: clear and kind" in out
    assert lines_after(out, "1@m1 3") == ["m1 has no buttons any more."]
    with store.unit_of_work() as s:
        answer = s.scalars(select(Answer)).one()
        assert answer.answer == {"rating": 10, "rationale": "clear and kind"}


def test_a_second_session_continues_where_the_first_left_off(chat: Chat, pairs: Store) -> None:
    first = chat("alice", "/hdops next")
    assert "[m1] hdops in your DM:" in first.output
    second = chat("alice", "/hdops next", "2")
    out = second.output
    assert second.exit_code == 0, out
    assert "(only you) You already have an open task — I've sent it to you again." in out
    # numbered past the messages the first session left refs to, and events are not
    # mistaken for redeliveries of the first session's
    resent = lines_after(out, "/hdops next")
    assert resent[1] == "[m2] hdops in your DM:"
    assert "✓ Recorded: B is better" in out
    with pairs.unit_of_work() as s:
        assert s.scalars(select(Answer.answer)).all() == [{"choice": "b"}]


def test_help_lists_the_terminal_commands(chat: Chat, pairs: Store) -> None:
    result = chat("alice", "/help")
    assert "/reply m12 TEXT" in result.output and "/as PERSON" in result.output
    assert CliRunner().invoke(app, ["chat", "--help"]).exit_code == 0


def test_pick_options_by_label() -> None:
    select_ = Select(
        action_id="hd:ans:1",
        placeholder="Choose labels",
        multiple=True,
        options=[Option(label=o, value=str(i)) for i, o in enumerate(["injury", "no, not", "x"])],
    )
    assert pick_options(select_, "injury, x") == ["0", "2"]
    assert pick_options(select_, "No, not") == ["1"]  # a label with a comma in it
    assert next_message_number(["m3", "m12", "C0CLAR.17", "m2"]) == 13
    assert next_message_number([]) == 1


async def test_form_errors_from_the_core_re_ask_the_failing_fields(pairs: Store) -> None:
    """The core may refuse a submitted form field by field; only those are asked again."""
    script = iter(["/hdops next", "5", "Is A the first?", "Is A the first one?"])
    printed: list[str] = []

    async def read(prompt: str) -> str | None:
        line = next(script, None)
        if line is not None:
            printed.append(f"> {line}")
        return line

    terminal = Terminal(pairs, Settings(), read, printed.append)
    submit = terminal.chat.submit
    calls: list[dict[str, str]] = []

    def picky_submit(user: str, fields: dict[str, str], event_id: str | None = None) -> Reply:
        calls.append(fields)
        if len(calls) == 1:
            return Reply(form_errors={"question": "Say which response you mean."})
        return submit(user, fields, event_id)

    terminal.chat.submit = picky_submit  # type: ignore[method-assign]
    await terminal.run("alice")
    text = "\n".join(printed)
    assert (
        "  ! Your question: Say which response you mean.\nYour question:\n> Is A the first one?"
        in text
    )
    assert [c["question"] for c in calls] == ["Is A the first?", "Is A the first one?"]
    assert "(only you) Question #1 sent." in text


def test_questions_are_listed_and_answered_by_id_in_later_sessions(
    chat: Chat, pairs: Store
) -> None:
    with pairs.unit_of_work() as s:
        contractor(s, "bob")
    first = chat("alice", "/hdops next", "5", "Which response counts as the first one?")
    assert "(only you) Question #1 sent." in first.output
    assert "[m2] hdops in #clarifications:" not in first.output  # alice can't see it

    # A later session: rita lists the open questions and answers #1 by its id.
    second = chat(
        "rita",
        "/hdops clarifications --open",
        "/reply #1 Use the first one",
        "/reply m2 And see the FAQ.",
        "/as alice",
    )
    out = second.output
    assert second.exit_code == 0, out
    listed = "\n".join(lines_after(out, "/hdops clarifications --open"))
    assert "(only you) == Open questions ==" in listed
    assert re.search(r"#1\s+helpful-pairs\s+alice\s+open\s+waiting 0 min\s+Which response", listed)
    assert "/reply #ID TEXT" in listed
    assert lines_after(out, "/reply #1 Use the first one") == []  # nothing to say: sent
    alice = "\n".join(lines_after(out, "/as alice"))
    assert "hdops in your DM, thread m1:\n  rita (researcher): Use the first one" in alice
    assert "rita (researcher): And see the FAQ." in alice

    # Alice answers back by the id too, from yet another session; bob may not.
    third = chat("alice", "/reply #1 Thanks, got it", "/as bob", "/reply #1 me too", "/reply m2 hi")
    assert lines_after(third.output, "/reply #1 me too") == [
        "Only ops or a researcher of helpful-pairs can answer its questions."
    ]
    assert lines_after(third.output, "/reply m2 hi") == ["There is no message m2 here."]
    fourth = chat("rita", "/hdops clarifications", "/reply #7 hello", "/reply #x hi")
    assert re.search(r"#1\s+helpful-pairs\s+alice\s+open\s+0 min\s", fourth.output)
    assert "median time to first answer 0 min" in fourth.output
    assert lines_after(fourth.output, "/reply #7 hello") == ["no question #7"]
    assert lines_after(fourth.output, "/reply #x hi") == [
        "#x is not a question id; questions are #1, #2, …"
    ]
    refused = chat("alice", "/hdops clarifications")
    assert "Only researcher or ops can use /hdops clarifications." in refused.output
    # The CLI lists the same, from the same service.
    listed_json = json.loads(CliRunner().invoke(app, ["clarifications", "--json"]).stdout)
    # answered within the same minute (real clock: a loaded machine takes a second or two)
    assert [(q["id"], q["asked_by"]) for q in listed_json] == [(1, "alice")]
    assert 0 <= listed_json[0]["time_to_first_answer_s"] < 60
    table = CliRunner().invoke(app, ["clarifications", "helpful-pairs", "--open"]).stdout
    assert "│ 1  │ helpful-pairs │ alice" in table and "1 question(s); median time" in table
    with pairs.unit_of_work() as s:
        said = [
            (m.direction, m.text)
            for m in s.scalars(select(ClarificationMessage).order_by(ClarificationMessage.id))
        ]
    assert said == [
        ("to_researchers", "Which response counts as the first one?"),
        ("to_contractor", "Use the first one"),
        ("to_contractor", "And see the FAQ."),
        ("to_researchers", "Thanks, got it"),
    ]
