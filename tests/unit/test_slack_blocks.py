"""Slack Block Kit rendering: real messages and forms render to valid payloads, and
no input — any size, any Unicode, any number of parts — breaks a Slack limit or
smuggles a mention, broadcast or link through."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Collection, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bots.slack.blocks import (
    MESSAGE_TEXT_BUDGET,
    SHOW_FULL_TEXT,
    form_errors_response,
    form_values,
    full_text_modal,
    message_payload,
    modal_view,
)
from bots.slack.text import ZWSP, escape_mrkdwn, plain_text, slack_len, truncate
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
    Option,
    Paragraph,
    Select,
)
from hdops.domain.no_task import Blocked, NoTask
from hdops.domain.tasks.registry import parse_task_settings
from hdops.render import clarifications, no_task, relay, tasks

# --------------------------------------------------------------------------- limit checks

TEXT_LIMITS = {"header": 150, "section": 3000, "context": 3000}


def length(text: str) -> int:
    """The stricter of Python's count (code points) and UTF-16 code units."""
    return max(len(text), len(text.encode("utf-16-le")) // 2)


def visible(text: str) -> bool:
    """Something besides whitespace, controls and format characters (ZWSP, BOM…)."""
    invisible = {"Cc", "Cf", "Zs", "Zl", "Zp"}
    return any(unicodedata.category(ch) not in invisible and not ch.isspace() for ch in text)


def check_text(obj: dict[str, Any], limit: int, *, kinds: tuple[str, ...] = ("plain_text",)) -> int:
    assert obj["type"] in kinds, obj
    text = obj["text"]
    assert visible(text), f"blank text object: {obj!r}"
    assert length(text) <= limit, (length(text), limit, text[:80])
    if obj["type"] == "mrkdwn":
        assert obj.get("verbatim") is True
    return length(text)


def check_element(element: dict[str, Any]) -> int:
    assert 1 <= length(element["action_id"]) <= 255
    kind = element["type"]
    if kind == "button":
        assert length(element.get("value", "")) <= 2000
        return check_text(element["text"], 75)
    if kind in ("static_select", "multi_static_select"):
        options = element["options"]
        assert 1 <= len(options) <= 100
        total = check_text(element["placeholder"], 150) if "placeholder" in element else 0
        for option in options:
            total += check_text(option["text"], 75)
            assert 1 <= length(option["value"]) <= 150
        if "initial_option" in element:
            assert element["initial_option"] in options
        return total
    if kind == "plain_text_input":
        max_length = element.get("max_length", 3000)
        assert 1 <= max_length <= 3000
        assert 0 <= element.get("min_length", 0) <= min(3000, max_length)
        assert length(element.get("initial_value", "")) <= max_length
        return length(element.get("initial_value", ""))
    raise AssertionError(f"unexpected element {kind}")


def check_block(block: dict[str, Any]) -> int:
    """Assert every limit of one block; return the length of its texts."""
    kind = block["type"]
    assert 1 <= length(block["block_id"]) <= 255
    if kind == "header":
        return check_text(block["text"], 150)
    if kind == "section":
        assert "fields" not in block or len(block["fields"]) <= 10
        total = check_text(block["text"], 3000, kinds=("plain_text", "mrkdwn"))
        if "accessory" in block:
            total += check_element(block["accessory"])
        return total
    if kind == "context":
        assert 1 <= len(block["elements"]) <= 10
        return sum(check_text(e, 3000, kinds=("mrkdwn",)) for e in block["elements"])
    if kind == "actions":
        elements = block["elements"]
        assert 1 <= len(elements) <= 25
        ids = [e["action_id"] for e in elements]
        assert len(ids) == len(set(ids)), "action ids repeat within a block"
        return sum(check_element(e) for e in elements)
    if kind == "input":
        assert block["block_id"] == block["element"]["action_id"]
        total = check_text(block["label"], 2000)
        if "hint" in block:
            total += check_text(block["hint"], 2000)
        return total + check_element(block["element"])
    raise AssertionError(f"unexpected block {kind}")


def slack_validates(blocks: list[dict[str, Any]]) -> None:
    parsed = Block.parse_all(blocks)
    assert [b.type for b in parsed] == [b["type"] for b in blocks]
    for block in parsed:
        assert type(block) is not Block, "slack_sdk did not recognise the block"
        block.validate_json()
        block.to_dict()  # validates nested elements and text objects too


def check_limits(payload: dict[str, Any]) -> None:
    """Every limit of a chat.postMessage payload, then slack_sdk's own validation."""
    assert set(payload) == {"text", "blocks"}
    assert visible(payload["text"]) and length(payload["text"]) <= 3000
    blocks = payload["blocks"]
    assert 1 <= len(blocks) <= 50
    ids = [b["block_id"] for b in blocks]
    assert len(ids) == len(set(ids))
    assert sum(check_block(b) for b in blocks) <= MESSAGE_TEXT_BUDGET
    slack_validates(blocks)


def check_view(view: dict[str, Any]) -> None:
    """Every limit of a modal, then slack_sdk's own validation."""
    assert view["type"] == "modal"
    check_text(view["title"], 24)
    for key in ("submit", "close"):
        if key in view:
            check_text(view[key], 24)
    assert length(view.get("callback_id", "")) <= 255
    assert length(view.get("private_metadata", "")) <= 3000
    blocks = view["blocks"]
    assert 1 <= len(blocks) <= 100
    ids = [b["block_id"] for b in blocks]
    assert len(ids) == len(set(ids))
    for block in blocks:
        check_block(block)
    if any(b["type"] == "input" for b in blocks):
        assert "submit" in view
    assert len(json.dumps(view)) <= 250_000  # ASCII-escaped: the worst case on the wire
    assert len(json.dumps(view, ensure_ascii=False).encode()) <= 250_000
    slack_validates(blocks)
    View(**view).validate_json()


# --------------------------------------------------------------------------- inertness


def strings(obj: Any, key: str = "") -> Iterator[tuple[str, str, str]]:
    """(key, text type, string) for every string in a payload."""
    if isinstance(obj, dict):
        text_type = obj.get("type", "") if "text" in obj else ""
        for k, v in obj.items():
            if k == "text" and isinstance(v, str):
                yield k, text_type, v
            else:
                yield from strings(v, k)
    elif isinstance(obj, list):
        for item in obj:
            yield from strings(item, key)
    elif isinstance(obj, str):
        yield key, "", obj


def allowed_mentions(message: Message) -> set[str]:
    return {
        f"<@{key.split(':', 1)[1]}>"
        for part in message.parts
        if isinstance(part, Mention)
        for key in part.identities
        if re.fullmatch(r"slack:[UW][A-Z0-9]{2,20}", key)
    }


def assert_inert(payload: dict[str, Any], allowed: Collection[str] = ()) -> None:
    """No `<!…>`, `<@…>`, `<#…>`, link or bare broadcast word except the allowed mentions.
    Initial values are exempt: they are the user's own data in an input box."""
    for key, text_type, text in strings(payload):
        if key == "initial_value":
            continue
        rest = text
        for tag in allowed:
            rest = rest.replace(tag, "")
        assert not re.search(r"<[!@#]", rest), text[:200]
        assert not re.search(r"(?<![^\W_])@(here|channel|everyone)\b", rest, re.I), text[:200]
        if text_type == "mrkdwn" or (key == "text" and not text_type):  # mrkdwn or fallback
            # fully escaped: no markup at all, and every & starts a whole entity
            assert "<" not in rest and ">" not in rest, text[:200]
            assert not re.search(r"&(?!amp;|lt;|gt;)", rest), text[:200]


# --------------------------------------------------------------------------- real messages

LONG = "A long model response. " * 400  # 9,200 characters


def task_view(kind: str, assignment_id: int = 7, **extra: Any) -> tasks.TaskView:
    fields = {"pairwise": ["prompt", "response_a", "response_b"]}.get(kind, ["text"])
    return tasks.TaskView(
        assignment_id=assignment_id,
        project_title="Helpfulness & <!channel> comparisons",
        project_name="helpful-pairs",
        task_type=kind,
        settings=parse_task_settings({"type": kind, "fields": fields, **extra}),
        item_external_id="item-0042",
        fields=[
            (name, f"{name}: {LONG}" if i else "Say hi to <@U999> & @here")
            for i, name in enumerate(fields)
        ],
        instruction_version=3,
        instruction_version_id=11,
        instructions_preview="Pick the more helpful response. " * 30,
        done_today=4,
        project_done=120,
        project_total=500,
        lease_minutes=20,
    )


TASK_VIEWS = {
    "pairwise": task_view("pairwise", rationale="required"),
    "rating-buttons": task_view("rating", scale={"min": 1, "max": 5, "labels": {1: "bad"}}),
    "rating-select": task_view("rating", scale={"min": 0, "max": 20}),
    "choice-buttons": task_view("choice", options=["yes", "no"]),
    "choice-select": task_view("choice", options=[f"label {i}" for i in range(25)]),
    "choice-multi": task_view("choice", options=["a", "b", "c"], multiple=True),
    "text": task_view("text", rationale="optional"),
}

MESSAGES: dict[str, Message] = {
    **{f"task:{k}": tasks.task_message(v) for k, v in TASK_VIEWS.items()},
    "recorded": tasks.recorded_message(
        TASK_VIEWS["pairwise"], {"choice": "a", "rationale": "clearer <@U1>"}, 42
    ),
    "skipped": tasks.skipped_message(TASK_VIEWS["text"], "unclear"),
    "expired": tasks.expired_message(TASK_VIEWS["text"]),
    "no-task": no_task.why_no_task(
        NoTask(
            (
                Blocked(1, "Helpfulness <!here>", "failed", gold_answered=5, gold_correct=3),
                Blocked(2, "Triage", "skills", missing_skills=("medical", "legal")),
                Blocked(3, "Pairs", "paused"),
            )
        )
    ),
    "no-task-inactive": no_task.why_no_task(NoTask(profile_status="inactive"), resumed=True),
    "full-text": tasks.full_text_message(TASK_VIEWS["pairwise"], 1),
    "instructions": tasks.instructions_message(
        "Helpfulness", 3, LONG * 3, [("Is a tie ok?", "Yes <!here>"), ("Q2", "A2")]
    ),
    "instructions-changed": tasks.instructions_changed_message("Helpfulness", 4, ""),
    "question": clarifications.question_post(
        5,
        "Helpfulness",
        "item-0042",
        "alice",
        "What does <#C1|general> mean?",
        [("prompt", "hi"), ("response_a", LONG)],
        on_call=["slack:U0RES1", "discord:1234"],
    ),
    "question-resolved": clarifications.question_post(
        5, "Helpfulness", "item-0042", "alice", "?", [], resolved_by="rita"
    ),
    "relayed": relay.relayed(
        "rita", "See <https://evil.example|here> @channel", "researcher", part=(2, 3)
    ),
    "question-sent": clarifications.question_sent(5),
    "resolved-for-contractor": clarifications.resolved_for_contractor(5, "rita"),
    "escalation": clarifications.escalation(["slack:U0RES1", "slack:W0ABC"], 30, 5),
    "escalation-ops": clarifications.escalation_to_ops("Helpfulness", 5, 90),
    "faq-added": clarifications.faq_added("Helpfulness", 4, "Q <!everyone>", "A & B"),
}

FORMS: dict[str, Form] = {
    "text-answer": tasks.text_answer_form(7, TASK_VIEWS["text"].settings, "text"),
    "text-answer-rationale": tasks.text_answer_form(
        7, parse_task_settings({"type": "text", "fields": ["x"], "rationale": "required"}), "text"
    ),
    "rationale": tasks.rationale_form(7, TASK_VIEWS["pairwise"].settings, "a", "A is better"),
    "skip": tasks.skip_form(7),
    "ask": tasks.ask_form(7),
    "faq": clarifications.faq_form(5, "What is <!channel>?" * 300, "It is " + LONG),
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_real_messages_render_within_limits(name: str) -> None:
    message = MESSAGES[name]
    payload = message_payload(message)
    check_limits(payload)
    assert_inert(payload, allowed_mentions(message))


@pytest.mark.parametrize("name", sorted(FORMS))
def test_real_forms_render_within_limits(name: str) -> None:
    view = modal_view(FORMS[name], private_metadata=json.dumps({"channel": "C1"}))
    check_view(view)
    assert_inert(view)
    assert view["callback_id"] == FORMS[name].form_id


def test_task_message_shape() -> None:
    payload = message_payload(MESSAGES["task:pairwise"])
    blocks = payload["blocks"]
    assert [b["block_id"] for b in blocks] == [f"b{i}" for i in range(len(blocks))]
    assert blocks[0] == {
        "type": "header",
        "block_id": "b0",
        "text": {
            "type": "plain_text",
            "text": f"Helpfulness & <{ZWSP}!channel> comparisons — item item-0042",
        },
    }
    assert blocks[1]["text"]["text"] == "*prompt*\nSay hi to &lt;@U999&gt; &amp; @\u200bhere"
    assert "accessory" not in blocks[1]
    # the long responses are cut and offer their full text, right next to the value
    for index, block in ((1, blocks[2]), (2, blocks[3])):
        assert block["text"]["text"].endswith("…")
        assert block["accessory"] == {
            "type": "button",
            "action_id": actions.encode(actions.FULL, 7, str(index)),
            "text": {"type": "plain_text", "text": SHOW_FULL_TEXT},
        }
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == [
        "A is better",
        "B is better",
        "Tie",
        "Skip",
        "Ask a question",
        "Instructions",
    ]
    assert (
        payload["text"]
        == "New task: Helpfulness &amp; &lt;!channel&gt; comparisons (item item-0042)"
    )


def test_selects_render_as_static_and_multi_static() -> None:
    single = message_payload(MESSAGES["task:choice-select"])["blocks"]
    multi = message_payload(MESSAGES["task:choice-multi"])["blocks"]
    kinds = [e["type"] for b in single + multi if b["type"] == "actions" for e in b["elements"]]
    assert "static_select" in kinds and "multi_static_select" in kinds
    select = next(
        e
        for b in single
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "static_select"
    )
    assert [o["value"] for o in select["options"]] == [str(i) for i in range(25)]
    assert select["placeholder"]["text"] == "Choose a label"


def test_mentions_only_for_slack_identities() -> None:
    message = Message(
        text="x",
        parts=[
            Mention(
                identities=[
                    "slack:U0RES1",
                    "discord:123",
                    "slack:U1>|<!channel",
                    "slack:W0ABC",
                    "slack:U0RES1",
                    "console:bob",
                ],
                text="on call <!here>",
            )
        ],
    )
    payload = message_payload(message)
    assert payload["blocks"][0]["text"]["text"] == "<@U0RES1> <@W0ABC> on call &lt;!here&gt;"
    assert_inert(payload, {"<@U0RES1>", "<@W0ABC>"})


def test_mention_without_slack_identities_is_just_text() -> None:
    payload = message_payload(
        Message(text="x", parts=[Mention(identities=["discord:1"], text="hi")])
    )
    assert [b["text"]["text"] for b in payload["blocks"]] == ["hi"]


# --------------------------------------------------------------------------- escaping

NASTY = "<!channel> <@U123> <#C1> @here @Everyone & <https://evil|click> <!subteam^S1>"


def test_escape_mrkdwn() -> None:
    assert escape_mrkdwn(NASTY) == (
        "&lt;!channel&gt; &lt;@U123&gt; &lt;#C1&gt; @\u200bhere @\u200bEveryone &amp; "
        "&lt;https://evil|click&gt; &lt;!subteam^S1&gt;"
    )
    assert escape_mrkdwn("&amp;") == "&amp;amp;"  # an entity typed by a user stays literal
    assert escape_mrkdwn("ops@here.com x_@here") == "ops@here.com x_@\u200bhere"  # an address
    assert escape_mrkdwn("\ud800x") == "\ufffdx"  # lone surrogates cannot go out as JSON


def test_plain_text_defangs_without_entities() -> None:
    assert plain_text("a <!channel> & <b> @channel") == f"a <{ZWSP}!channel> & <b> @{ZWSP}channel"


def test_user_text_comes_out_inert_everywhere() -> None:
    message = Message(
        text=NASTY,
        parts=[
            Heading(text=NASTY),
            Paragraph(text=NASTY),
            FieldPart(label=NASTY, value=NASTY, full_text_action="hd:full:1:0"),
            Actions(
                controls=[
                    Button(action_id="hd:ans:1:a", label=NASTY),
                    Select(
                        action_id="hd:ans:1",
                        placeholder=NASTY,
                        options=[Option(label=NASTY, value="0")],
                    ),
                ]
            ),
            Context(text=NASTY),
            Mention(identities=["slack:U0RES1"], text=NASTY),
        ],
    )
    payload = message_payload(message)
    check_limits(payload)
    assert_inert(payload, {"<@U0RES1>"})
    paragraph = payload["blocks"][1]["text"]
    assert paragraph == {"type": "mrkdwn", "verbatim": True, "text": escape_mrkdwn(NASTY)}
    form = Form(
        form_id="hd:f_ask:1",
        title=NASTY,
        intro=NASTY,
        submit_label=NASTY,
        fields=[
            FormField(
                name="q",
                label=NASTY,
                hint=NASTY,
                kind="select",
                options=[Option(label=NASTY, value="v")],
            ),
        ],
    )
    view = modal_view(form, errors={"_": NASTY, "q": NASTY})
    check_view(view)
    assert_inert(view)
    check_view(full_text_modal(NASTY, NASTY))
    assert_inert(full_text_modal(NASTY, NASTY))
    response = form_errors_response({"_": NASTY}, form)
    assert_inert(response)


def test_truncate_never_splits_an_entity_or_a_character() -> None:
    text = escape_mrkdwn("&" * 10)  # "&amp;" × 10
    for limit in range(1, 50):
        cut = truncate(text, limit)
        assert slack_len(cut) <= limit
        assert not re.search(r"&(?!amp;)", cut.rstrip("…"))
    assert truncate("😀😀😀", 4) == "😀…"  # 2 + 1 UTF-16 units; a third 😀 would not fit
    assert truncate("see @channel00", 13) == "see …"  # not "see @channel…": a broadcast
    assert truncate("abc", 3) == "abc"
    assert truncate("abcd", 0) == ""


# --------------------------------------------------------------------------- sizes


def test_long_paragraph_splits_on_boundaries() -> None:
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 300 for i in range(5))  # ~7,600 chars
    blocks = message_payload(Message(text="t", parts=[Paragraph(text=text)]))["blocks"]
    # each piece would fit two paragraphs' worth of characters, but breaks between them
    assert [b["text"]["text"][:12] for b in blocks] == [f"Paragraph {i}." for i in range(5)]
    assert "".join(b["text"]["text"] for b in blocks).replace("\n", "") == text.replace("\n", "")


def test_text_budget_is_shared_fairly() -> None:
    parts: list[Any] = [FieldPart(label="short", value="kept whole")]
    parts += [
        FieldPart(label=f"f{i}", value="x" * 8000, full_text_action=f"hd:full:1:{i}")
        for i in range(4)
    ]
    payload = message_payload(Message(text="t", parts=parts))
    check_limits(payload)
    sections = payload["blocks"]
    assert sections[0]["text"]["text"] == "*short*\nkept whole"
    shares = [len(b["text"]["text"]) for b in sections[1:5]]
    assert max(shares) - min(shares) <= 1 and 9000 < sum(shares) < 10_000
    assert all(b["accessory"]["text"]["text"] == SHOW_FULL_TEXT for b in sections[1:5])
    assert sections[-1]["type"] == "section"  # no note: every cut value offers its full text


def test_many_parts_keep_the_buttons_and_say_something_is_missing() -> None:
    parts: list[Any] = [FieldPart(label=f"field {i}", value="v") for i in range(80)]
    parts.append(
        Actions(controls=[Button(action_id=f"hd:ans:1:{i}", label=str(i)) for i in range(60)])
    )
    payload = message_payload(Message(text="t", parts=parts))
    check_limits(payload)
    blocks = payload["blocks"]
    assert len(blocks) == 50
    actions_blocks = [b for b in blocks if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions_blocks] == [25, 25, 10]
    assert blocks[-1]["type"] == "context" and "too long" in blocks[-1]["elements"][0]["text"]


def test_repeated_action_ids_go_to_separate_blocks() -> None:
    button = Button(action_id="hd:ans:1:a", label="A")
    blocks = message_payload(Message(text="t", parts=[Actions(controls=[button, button])]))
    assert [len(b["elements"]) for b in blocks["blocks"]] == [1, 1]


def test_identifiers_are_never_cut() -> None:
    too_long = "hd:" + "x" * 300
    with pytest.raises(ValueError, match="action_id"):
        message_payload(
            Message(text="t", parts=[Actions(controls=[Button(action_id=too_long, label="x")])])
        )
    with pytest.raises(ValueError, match="form_id"):
        modal_view(Form(form_id=too_long, title="t", fields=[]))
    with pytest.raises(ValueError, match="private_metadata"):
        modal_view(Form(form_id="f", title="t", fields=[]), private_metadata="x" * 3001)
    with pytest.raises(ValueError, match="__2"):
        modal_view(Form(form_id="f", title="t", fields=[FormField(name="a__2", label="a")]))
    with pytest.raises(ValueError, match="unique"):
        modal_view(Form(form_id="f", title="t", fields=[FormField(name="a", label="a")] * 2))
    with pytest.raises(ValueError, match="option"):
        message_payload(
            Message(
                text="t",
                parts=[
                    Actions(
                        controls=[
                            Select(
                                action_id="hd:ans:1",
                                placeholder="p",
                                options=[Option(label="x", value="v" * 151)],
                            )
                        ]
                    )
                ],
            )
        )


def test_full_text_modal_cuts_with_a_note() -> None:
    view = full_text_modal("A very long title that does not fit", "word " * 100_000)
    check_view(view)
    assert view["title"]["text"] == "A very long title that …"
    assert view["blocks"][-1]["type"] == "context"  # the view size budget ran out
    heavy = full_text_modal("t", "😀" * 200_000)  # 12 bytes each as escaped JSON
    check_view(heavy)
    assert heavy["blocks"][-1]["type"] == "context"
    short = full_text_modal("Prompt", "line 1\n<b>line 2</b>")
    assert short["blocks"] == [
        {
            "type": "section",
            "block_id": "b0",
            "text": {"type": "plain_text", "text": "line 1\n<b>line 2</b>"},
        }
    ]


# --------------------------------------------------------------------------- forms


def submit(view: dict[str, Any], typed: dict[str, str]) -> dict[str, Any]:
    """The `view.state.values` Slack sends for `typed` (block id → text or option value)."""
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        initial = element.get("initial_value", element.get("initial_option", {}).get("value"))
        value = typed.get(block["block_id"], initial)
        if element["type"] == "static_select":
            option = next((o for o in element["options"] if o["value"] == value), None)
            entry = {"type": "static_select", "selected_option": option}
        else:
            entry = {"type": "plain_text_input", "value": value}
        state[block["block_id"]] = {element["action_id"]: entry}
    return state


def test_long_text_field_splits_into_two_inputs_and_joins_back() -> None:
    form = tasks.text_answer_form(7, TASK_VIEWS["text"].settings, "text")  # max 4000
    view = modal_view(form)
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [(b["block_id"], b["element"]["max_length"], b["optional"]) for b in inputs] == [
        ("text", 3000, False),
        ("text__2", 1000, True),
        ("rationale", 2000, True),
    ]
    assert inputs[1]["label"]["text"] == "Your answer (continued)"
    answer = "é😀 " * 1300  # 3,900 characters
    typed = {"text": answer[:3000], "text__2": answer[3000:], "rationale": "because"}
    assert form_values(submit(view, typed)) == {"text": answer, "rationale": "because"}
    assert form_values(submit(view, {})) == {"text": "", "rationale": ""}


def test_initial_values_are_split_and_round_trip() -> None:
    initial = "".join(f"{i:05d} " for i in range(900))  # 5,400 characters
    form = Form(
        form_id="hd:f_faq:1",
        title="Add to FAQ",
        fields=[
            FormField(name="answer", label="Answer", max_length=6000, initial=initial),
            FormField(
                name="kind",
                label="Kind",
                kind="select",
                initial="b",
                options=[Option(label="A", value="a"), Option(label="B", value="b")],
            ),
        ],
    )
    view = modal_view(form)
    check_view(view)
    select = view["blocks"][2]["element"]
    assert select["initial_option"] == {"text": {"type": "plain_text", "text": "B"}, "value": "b"}
    assert form_values(submit(view, {})) == {"answer": initial, "kind": "b"}


def test_form_values_reads_every_element_kind() -> None:
    state = {
        "a": {"a": {"type": "plain_text_input", "value": None}},
        "b": {"b": {"type": "static_select", "selected_option": None}},
        "c": {
            "c": {
                "type": "multi_static_select",
                "selected_options": [{"value": "x"}, {"value": "y"}],
            }
        },
        "d": {"d": {"type": "static_select", "selected_option": {"value": "other"}}},
        "e__2": {"e__2": {"type": "plain_text_input", "value": "lonely"}},
    }
    assert form_values(state) == {"a": "", "b": "", "c": "x,y", "d": "other", "e__2": "lonely"}


def test_form_errors_response_maps_to_blocks() -> None:
    form = tasks.skip_form(7)
    response = form_errors_response(
        {"_": "Something is off.", "note": "Too long " * 40, "nope": "Unknown field."}, form
    )
    assert response["response_action"] == "errors"
    errors = response["errors"]
    assert errors["reason"] == "Something is off. · Unknown field."
    assert errors["note"].startswith("Too long") and len(errors["note"]) == 150
    view_blocks = {b["block_id"] for b in modal_view(form)["blocks"]}
    assert set(errors) <= view_blocks
    assert form_errors_response({"_": "x"}, Form(form_id="f", title="t", fields=[])) == {
        "response_action": "errors",
        "errors": {},
    }


def test_modal_view_shows_errors_and_intro_above_the_fields() -> None:
    form = tasks.rationale_form(7, TASK_VIEWS["pairwise"].settings, "a", "A is better")
    view = modal_view(form, errors={"rationale": "Please say why."})
    check_view(view)
    assert [b["type"] for b in view["blocks"]] == ["section", "section", "input"]
    assert view["blocks"][0]["text"]["text"] == "⚠️ Rationale: Please say why."
    assert view["blocks"][1]["text"]["text"] == "Your answer: A is better"


def test_many_fields_are_capped_with_a_note() -> None:
    fields = [FormField(name=f"f{i}", label=f"Field {i}", max_length=5000) for i in range(70)]
    view = modal_view(Form(form_id="f", title="t", intro="hello", fields=fields))
    check_view(view)
    assert len(view["blocks"]) == 100
    assert view["blocks"][-1]["type"] == "context"


def test_huge_selects_are_capped_by_view_size() -> None:
    options = [Option(label="é" * 75, value=f"{i:03d}" + "v" * 147) for i in range(100)]
    fields = [
        FormField(name=f"f{i}", label="Pick", kind="select", options=options) for i in range(60)
    ]
    view = modal_view(Form(form_id="f", title="t", fields=fields))
    check_view(view)  # 60 × 100 options would be about 2 MB of JSON
    assert 1 < sum(b["type"] == "input" for b in view["blocks"]) < 60
    assert view["blocks"][-1]["type"] == "context"


# --------------------------------------------------------------------------- properties

SPECIALS = [
    "<!channel>",
    "<!here>",
    "<@U123>",
    "<#C123|general>",
    "<https://evil.example|click>",
    "@here",
    "@channel",
    "@everyone",
    "&",
    "&amp;",
    "&lt;",
    "<",
    ">",
    "*",
    "_",
    "`",
    "~",
    "\n",
    "\n\n",
    " ",
    "\t",
    "😀",
    "👨‍👩‍👧‍👦",
    "👍🏽",
    "𝕏",
    "🇺🇳",
    "e\u0301",
    "\u0301\u0301",
    "\u202e",
    "\u200f",
    "\u200b",
    "\u2060",
    "\ufeff",
    "\x00",
    "中文",
    "עברית",
    "ﷺ",
    "\U0010ffff",
]
atoms = st.sampled_from(SPECIALS) | st.text(max_size=12)
joined = st.lists(atoms, max_size=30).map("".join)
repeated = st.tuples(joined, st.integers(1, 5000)).map(lambda t: (t[0] * t[1])[:50_000])
texts = st.one_of(st.text(), joined, repeated)
short_texts = st.one_of(st.text(max_size=100), joined)

action_ids = st.builds(
    actions.encode,
    st.sampled_from([actions.ANSWER, actions.SKIP, actions.FULL, actions.FAQ]),
    st.integers(0, 30),
    st.none() | st.from_regex(r"[A-Za-z0-9_.|-]{1,60}", fullmatch=True),
)
option_values = st.from_regex(r"[A-Za-z0-9_-]{1,150}", fullmatch=True)
# Cheap to draw, so that lists of 45+ of them fit in Hypothesis's budget.
light_texts = st.sampled_from(SPECIALS) | st.tuples(
    st.sampled_from([*SPECIALS, "word ", "x"]), st.integers(1, 5000)
).map(lambda t: t[0] * t[1])


def buttons(text: st.SearchStrategy[str]) -> st.SearchStrategy[Button]:
    return st.builds(
        Button, action_id=action_ids, label=text, style=st.sampled_from([None, "primary", "danger"])
    )


def selects(text: st.SearchStrategy[str], most: int) -> st.SearchStrategy[Select]:
    return st.builds(
        Select,
        action_id=action_ids,
        placeholder=text,
        options=st.lists(st.builds(Option, label=text, value=option_values), max_size=most),
        multiple=st.booleans(),
    )


identities = st.one_of(
    st.from_regex(r"slack:[UW][A-Z0-9]{2,20}", fullmatch=True),
    st.sampled_from(["discord:1234", "console:bob", "slack:U1>|<!channel", "slack:"]),
    texts,
)


def parts(text: st.SearchStrategy[str], most: int) -> st.SearchStrategy[Any]:
    controls = st.one_of(buttons(text), selects(text, 3 * most))
    return st.one_of(
        st.builds(Heading, text=text),
        st.builds(Paragraph, text=text),
        st.builds(FieldPart, label=text, value=text, full_text_action=st.none() | action_ids),
        st.builds(Actions, controls=st.lists(controls, min_size=1, max_size=most)),
        st.builds(Context, text=text),
        st.builds(Mention, identities=st.lists(identities, max_size=3 * most), text=text),
    )


# a few parts with anything in them, or more parts than a message has blocks for
messages = st.builds(
    Message,
    text=texts,
    parts=st.lists(parts(texts, 40), max_size=10)
    | st.lists(parts(light_texts, 30), min_size=45, max_size=80),
)


def form_fields(text: st.SearchStrategy[str], most: int) -> st.SearchStrategy[FormField]:
    return st.builds(
        FormField,
        name=st.just("x"),  # named by `named` below
        label=text,
        kind=st.sampled_from(["short", "long", "select"]),
        required=st.booleans(),
        min_length=st.integers(-5, 7000),
        max_length=st.integers(-5, 9000),
        options=st.lists(st.builds(Option, label=text, value=option_values), max_size=most),
        initial=st.none() | text,
        hint=st.none() | text,
    )


def named(fields: list[FormField]) -> list[FormField]:
    return [f.model_copy(update={"name": f"f_{i}"}) for i, f in enumerate(fields)]


# a few fields with anything in them, or more fields than a modal has blocks for
forms = st.builds(
    Form,
    form_id=action_ids,
    title=short_texts,
    fields=(
        st.lists(form_fields(texts, 120), max_size=6)
        | st.lists(form_fields(light_texts, 110), min_size=45, max_size=110)
    ).map(named),
    submit_label=short_texts,
    intro=st.none() | texts,
)

PROPERTY = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


@settings(PROPERTY, max_examples=60)  # large examples: drawing them is the slow part
@given(messages)
def test_any_message_stays_within_limits_and_inert(message: Message) -> None:
    payload = message_payload(message)
    check_limits(payload)
    assert_inert(payload, allowed_mentions(message))


@settings(PROPERTY, max_examples=60)
@given(forms, st.none() | st.dictionaries(short_texts, texts, max_size=5), st.text(max_size=3000))
def test_any_form_stays_within_limits_and_inert(
    form: Form, errors: dict[str, str] | None, metadata: str
) -> None:
    view = modal_view(form, private_metadata=metadata, errors=errors)
    check_view(view)
    assert_inert(view)
    response = form_errors_response(errors or {"_": "x"}, form)
    blocks = {b["block_id"] for b in view["blocks"] if b["type"] == "input"}
    assert set(response["errors"]) <= blocks | {f.name for f in form.fields}
    assert all(0 < length(m) <= 150 for m in response["errors"].values())
    assert_inert(response)


@PROPERTY
@given(short_texts, texts)
def test_any_full_text_modal_stays_within_limits(title: str, text: str) -> None:
    view = full_text_modal(title, text)
    check_view(view)
    assert_inert(view)


@PROPERTY
@given(st.text(max_size=6000), st.integers(3001, 6000))
def test_split_text_round_trips(answer: str, max_length: int) -> None:
    answer = answer[:max_length]
    view = modal_view(
        Form(
            form_id="f",
            title="t",
            fields=[FormField(name="text", label="Answer", max_length=max_length)],
        )
    )
    limits = [b["element"]["max_length"] for b in view["blocks"]]
    assert limits == [3000, min(max_length - 3000, 3000)]
    typed = {"text": answer[:3000], "text__2": answer[3000:]}
    assert form_values(submit(view, typed)) == {"text": answer}


def test_tables_render_monospaced_and_escaped_images_are_left_to_the_port() -> None:
    from hdops.chat import Image, Table

    message = Message(
        text="Shifts",
        parts=[
            Table(columns=["id", "who"], rows=[["1", "alice <!channel>"]]),
            Image(filename="c.png", title="Coverage", png_base64="AA=="),
        ],
    )
    payload = message_payload(message)
    [block] = payload["blocks"]
    text = block["text"]["text"]
    assert text.startswith("```") and "alice &lt;!channel&gt;" in text
    assert "<!channel>" not in text
