"""The Discord renderer: neutral messages and forms → payloads within Discord's
limits, with user text shown literally and no way to ping anyone but the people
a `Mention` part names."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.discord import limits as L
from bots.discord.drafts import Draft, Drafts
from bots.discord.limits import discord_len
from bots.discord.render import (
    CUT_NOTE,
    EPHEMERAL,
    REOPEN_PREFIX,
    SHOW_FULL_TEXT,
    form_errors_reply,
    message_payload,
    modal_payload,
    refilled,
)
from bots.discord.text import ZWSP, clean, markdown
from hdops import actions
from hdops.chat import (
    Actions,
    Button,
    Context,
    FieldPart,
    Form,
    FormField,
    Heading,
    Image,
    Mention,
    Message,
    Option,
    Paragraph,
    Select,
    Table,
)
from tests.fakes.discord.guild import shown_text as shown

# --------------------------------------------------------------------------- checks


def _texts(payload: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) for every text a person sees in a message payload."""
    yield "content", payload["content"]
    for embed in payload["embeds"]:
        for key in ("title", "description"):
            if key in embed:
                yield key, embed[key]
        for f in embed.get("fields", []):
            yield "field", f["name"]
            yield "field", f["value"]
        if "footer" in embed:
            yield "footer", embed["footer"]["text"]
    for row in payload["components"]:
        for c in row["components"]:
            if "label" in c:
                yield "label", c["label"]
            if "placeholder" in c:
                yield "placeholder", c["placeholder"]
            for o in c.get("options", []):
                yield "option", o["label"]


def embed_total(payload: dict[str, Any]) -> int:
    total = 0
    for embed in payload["embeds"]:
        total += discord_len(embed.get("title", "")) + discord_len(embed.get("description", ""))
        total += sum(
            discord_len(f["name"]) + discord_len(f["value"]) for f in embed.get("fields", [])
        )
        total += discord_len(embed.get("footer", {}).get("text", ""))
        total += discord_len(embed.get("author", {}).get("name", ""))
    return total


def assert_within_limits(payload: dict[str, Any]) -> None:
    json.dumps(payload, ensure_ascii=False).encode("utf-8")  # no lone surrogates
    assert discord_len(payload["content"]) <= L.CONTENT
    assert payload["content"] or payload["embeds"]
    assert len(payload["embeds"]) <= L.EMBEDS
    for embed in payload["embeds"]:
        assert embed, "no empty embeds"
        assert discord_len(embed.get("title", "")) <= L.EMBED_TITLE
        assert discord_len(embed.get("description", "")) <= L.EMBED_DESCRIPTION
        assert len(embed.get("fields", [])) <= L.EMBED_FIELDS
        for f in embed.get("fields", []):
            assert 0 < discord_len(f["name"]) <= L.FIELD_NAME
            assert 0 < discord_len(f["value"]) <= L.FIELD_VALUE
        assert discord_len(embed.get("footer", {}).get("text", "")) <= L.FOOTER
    assert embed_total(payload) <= L.EMBED_TOTAL
    assert len(payload["components"]) <= L.ROWS
    ids = []
    for row in payload["components"]:
        assert row["type"] == 1
        kinds = [c["type"] for c in row["components"]]
        assert kinds == [3] or (kinds and set(kinds) == {2} and len(kinds) <= L.ROW_BUTTONS)
        for c in row["components"]:
            ids.append(c["custom_id"])
            assert 1 <= discord_len(c["custom_id"]) <= L.CUSTOM_ID
            if c["type"] == 2:
                assert 1 <= discord_len(c["label"]) <= L.BUTTON_LABEL
            else:
                assert discord_len(c["placeholder"]) <= L.PLACEHOLDER
                assert 1 <= len(c["options"]) <= L.OPTIONS
                assert 1 <= c["max_values"] <= len(c["options"])
                for o in c["options"]:
                    assert 1 <= discord_len(o["label"]) <= L.OPTION_TEXT
                    assert 1 <= discord_len(o["value"]) <= L.OPTION_TEXT
    assert len(ids) == len(set(ids)), "custom ids unique per message"


_PING = re.compile(r"@(everyone|here)|<[@#/:!&]|<t:|<a:|@[!&]?[0-9]", re.IGNORECASE)


def assert_no_pings(payload: dict[str, Any], users: list[str]) -> None:
    """Nothing can mention anyone but `users`, whose `<@id>` only the content holds."""
    assert payload["allowed_mentions"]["parse"] == []
    assert payload["allowed_mentions"].get("users", []) == users
    for where, text in _texts(payload):
        if where == "content":
            for uid in users:
                assert f"<@{uid}>" in text
                text = text.replace(f"<@{uid}>", "")
        assert not _PING.search(text), (where, text)


def discord_ids(parts: list[Any]) -> list[str]:
    out: list[str] = []
    for p in parts:
        if isinstance(p, Mention):
            for key in p.identities:
                platform, _, ext = key.partition(":")
                if platform == "discord" and re.fullmatch(r"[0-9]{1,20}", ext) and ext not in out:
                    out.append(ext)
    return out


# --------------------------------------------------------------------------- examples


def test_heading_paragraph_and_context_make_one_embed() -> None:
    payload = message_payload(
        Message(
            text="Task 3",
            parts=[
                Heading(text="Task 3 of 5"),
                Paragraph(text="Is this reply polite?"),
                Context(text="instructions v2"),
            ],
        )
    )
    assert payload["embeds"] == [
        {
            "title": "Task 3 of 5",
            "description": "Is this reply polite?\n-# instructions v2",
        }
    ]
    assert payload["content"] == ""
    assert payload["allowed_mentions"] == {"parse": []}


def test_field_is_an_embed_field_and_text_after_it_starts_a_new_embed() -> None:
    payload = message_payload(
        Message(
            text="x",
            parts=[FieldPart(label="Prompt", value="Say hi"), Paragraph(text="Then rate it.")],
        )
    )
    assert payload["embeds"] == [
        {"fields": [{"name": "Prompt", "value": "Say hi", "inline": False}]},
        {"description": "Then rate it."},
    ]


def test_long_field_without_full_text_goes_whole_into_the_description() -> None:
    value = "word " * 500  # 2500 characters: too long for a field (1024)
    payload = message_payload(Message(text="x", parts=[FieldPart(label="Reply", value=value)]))
    assert payload["embeds"] == [{"description": "**Reply**\n" + value}]


def test_long_field_with_full_text_is_cut_and_offers_the_full_text() -> None:
    full = actions.encode(actions.FULL, 7, "0")
    part = FieldPart(label="Text", value="x" * 3000, full_text_action=full)
    payload = message_payload(Message(text="x", parts=[part]))
    value = payload["embeds"][0]["fields"][0]["value"]
    assert len(value) == L.FIELD_VALUE and value.endswith("…")
    assert payload["components"] == [
        {
            "type": 1,
            "components": [{"type": 2, "style": 2, "custom_id": full, "label": SHOW_FULL_TEXT}],
        }
    ]


def test_table_is_a_code_block_that_cannot_be_closed_from_inside() -> None:
    table = Table(columns=["who", "note"], rows=[["ann", "```@everyone"]])
    description = message_payload(Message(text="x", parts=[table]))["embeds"][0]["description"]
    assert description.startswith("```\n") and description.endswith("\n```")
    assert description.count("```") == 2
    assert "@everyone" not in description


def test_mention_pings_exactly_the_discord_people_named() -> None:
    parts: list[Any] = [
        Mention(
            identities=["discord:4444", "slack:U0RES1", "discord:12345678901234567"], text="on call"
        ),
        Paragraph(text="ping <@999> and @everyone"),
    ]
    payload = message_payload(Message(text="x", parts=parts))
    assert payload["content"] == "<@4444> <@12345678901234567> on call"
    assert payload["allowed_mentions"] == {"parse": [], "users": ["4444", "12345678901234567"]}
    assert_no_pings(payload, ["4444", "12345678901234567"])


def test_image_points_at_its_attachment() -> None:
    image = Image(filename="chart 1.png", title="Coverage", png_base64="AAAA")
    payload = message_payload(Message(text="x", parts=[Paragraph(text="Digest"), image]))
    assert payload["embeds"][1] == {
        "title": "Coverage",
        "image": {"url": "attachment://chart_1.png"},
    }


def test_buttons_fill_rows_of_five_and_a_select_has_its_own_row() -> None:
    buttons = [
        Button(action_id=actions.encode(actions.ANSWER, 1, str(i)), label=str(i)) for i in range(7)
    ]
    select = Select(
        action_id=actions.encode(actions.ANSWER, 1),
        placeholder="Pick",
        options=[Option(label=f"o{i}", value=f"v{i}") for i in range(30)],
        multiple=True,
    )
    payload = message_payload(Message(text="x", parts=[Actions(controls=[*buttons, select])]))
    rows = payload["components"]
    assert [len(r["components"]) for r in rows] == [5, 2, 1]
    assert [c["custom_id"] for r in rows[:2] for c in r["components"]] == [
        b.action_id for b in buttons
    ]
    assert rows[2]["components"][0]["max_values"] == 25
    assert payload["embeds"][-1]["footer"] == {"text": CUT_NOTE}  # 5 options left out


def test_a_message_of_only_buttons_still_has_content() -> None:
    payload = message_payload(
        Message(
            text="Your next task",
            parts=[Actions(controls=[Button(action_id="hd:ans:1:a", label="A")])],
        )
    )
    assert payload["content"] == "Your next task" and payload["embeds"] == []


def test_user_markdown_and_mentions_show_literally() -> None:
    text = "**bold** _it_ ~~s~~ `c` ||spoiler|| [label](https://evil.example) <@&12> <#34> @here"
    lines = "# big\n> quote\n-# small\n- item\n1. first"
    payload = message_payload(Message(text="x", parts=[Paragraph(text=text + "\n" + lines)]))
    description = payload["embeds"][0]["description"]
    assert shown(description) == text + "\n" + lines
    for raw in ("**", "||", "](", "\n#", "\n>", "\n-", "\n1.", "<@&", "<#", "@here"):
        assert raw not in description
    assert "https://evil.example" in description  # addresses stay links


def test_long_texts_share_the_6000_fairly() -> None:
    parts: list[Any] = [Paragraph(text="a" * 5000), Paragraph(text="b" * 5000), Heading(text="Hi")]
    payload = message_payload(Message(text="x", parts=parts))
    assert_within_limits(payload)
    shown_texts = "".join(e.get("description", "") for e in payload["embeds"])
    assert 2800 < shown_texts.count("a") < 3000 and 2800 < shown_texts.count("b") < 3000
    assert payload["embeds"][-1]["title"] == "Hi"  # short texts stay whole


def test_thousands_of_parts_stay_within_the_total() -> None:
    payload = message_payload(Message(text="x", parts=[Paragraph(text="word")] * 4000))
    assert_within_limits(payload)
    assert payload["embeds"][-1]["footer"] == {"text": CUT_NOTE}


def test_a_text_split_across_embeds_is_never_split_inside_an_escape() -> None:
    text = "a" + "*" * 3000  # escaped: "a" then 3000 backslash-star pairs
    payload = message_payload(Message(text="x", parts=[Paragraph(text=text)]))
    first, second = (e["description"] for e in payload["embeds"])
    assert second.endswith("…")
    assert text.startswith(shown(first) + shown(second)[:-1])


def test_addresses_are_not_escaped() -> None:
    assert markdown("see https://x.org/a_b-c*d") == "see https://x.org/a_b-c*d"


def test_identifiers_are_never_cut() -> None:
    long_id = "hd:ans:1:" + "x" * 95
    for message in (
        Message(text="x", parts=[Actions(controls=[Button(action_id=long_id, label="A")])]),
        Message(text="x", parts=[FieldPart(label="a", value="b", full_text_action=long_id)]),
    ):
        try:
            message_payload(message)
        except ValueError as e:
            assert "custom_id" in str(e) or "full_text_action" in str(e)
        else:
            raise AssertionError("an over-long custom id must raise")


# --------------------------------------------------------------------------- modals


def assert_modal_within_limits(modal: dict[str, Any], form: Form) -> None:
    json.dumps(modal, ensure_ascii=False).encode("utf-8")
    assert modal["custom_id"] == form.form_id
    assert 1 <= discord_len(modal["title"]) <= L.MODAL_TITLE
    assert 1 <= len(modal["components"]) <= L.MODAL_COMPONENTS
    names = []
    for c in modal["components"]:
        if c["type"] == 10:
            assert 1 <= discord_len(c["content"]) <= L.TEXT_DISPLAY
            continue
        assert c["type"] == 18
        assert 1 <= discord_len(c["label"]) <= L.INPUT_LABEL
        assert discord_len(c.get("description", "x")) <= L.INPUT_DESCRIPTION
        inner = c["component"]
        names.append(inner["custom_id"])
        if inner["type"] == 4:
            assert 1 <= inner["max_length"] <= L.INPUT_VALUE
            assert 0 <= inner.get("min_length", 0) <= inner["max_length"]
            assert discord_len(inner.get("value", "")) <= inner["max_length"]
        else:
            assert inner["type"] == 3 and 1 <= len(inner["options"]) <= L.OPTIONS
    assert names == [f.name for f in form.fields][: len(names)]
    assert len(names) == min(len(form.fields), L.MODAL_COMPONENTS)


def test_modal_of_a_core_form() -> None:
    from hdops.render.tasks import skip_form

    form = skip_form(5)
    modal = modal_payload(form)
    assert modal["custom_id"] == "hd:f_skip:5" and modal["title"] == "Skip this item"
    reason, note = modal["components"]
    assert reason["component"]["type"] == 3 and reason["component"]["custom_id"] == "reason"
    assert note["component"] == {
        "type": 4,
        "custom_id": "note",
        "style": 2,
        "required": False,
        "max_length": 1000,
    }
    assert_modal_within_limits(modal, form)


def _rationale_form() -> Form:
    return Form(
        form_id=actions.encode(actions.F_RATIONALE, 9, "yes"),
        title="Why?",
        fields=[
            FormField(name="why", label="Your reason", kind="long", min_length=20, max_length=2000),
            FormField(
                name="sure",
                label="How sure?",
                kind="select",
                options=[Option(label="Very", value="hi"), Option(label="Not very", value="lo")],
            ),
        ],
    )


def test_form_errors_reply_says_what_to_fix_and_reopens_with_what_was_typed() -> None:
    form = _rationale_form()
    typed = {"why": "too *short* @everyone", "sure": "lo"}
    errors = {"why": "Write at least 20 characters."}
    drafts = Drafts()
    key = drafts.keep(Draft(user="discord:1", form=refilled(form, typed), errors=errors))

    reply = form_errors_reply(form, errors, typed, key)
    assert reply["flags"] == EPHEMERAL
    assert_within_limits(reply)
    assert_no_pings(reply, [])
    seen = shown("\n".join(text for _, text in _texts(reply)))
    assert "Your reason" in seen and "Write at least 20 characters." in seen
    assert "too *short* @everyone" in seen  # what was typed is shown back, literally
    assert "Not very" in seen  # a choice by its label
    (button,) = reply["components"][0]["components"]
    assert button["custom_id"] == REOPEN_PREFIX + key and len(button["custom_id"]) <= L.CUSTOM_ID

    draft = drafts.get(key, "discord:1")
    assert draft is not None and drafts.get(key, "discord:2") is None
    modal = modal_payload(draft.form, draft.errors)
    assert_modal_within_limits(modal, form)
    note, why, sure = modal["components"]
    assert note["type"] == 10 and "Write at least 20 characters" in shown(note["content"])
    assert why["component"]["value"] == "too *short* @everyone"  # inputs show text verbatim
    assert [o.get("default", False) for o in sure["component"]["options"]] == [False, True]


def test_drafts_expire() -> None:
    now = [0.0]
    drafts = Drafts(ttl=60, clock=lambda: now[0])
    key = drafts.keep(Draft(user="discord:1", form=_rationale_form(), errors={}))
    now[0] = 59
    assert drafts.get(key, "discord:1") is not None
    now[0] = 60
    assert drafts.get(key, "discord:1") is None


# --------------------------------------------------------------------------- properties

SPECIALS = [
    "@everyone", "@here", "@EVERYONE", "<@123456789012345678>", "<@!1>", "<@&77>", "<#5>",
    "</hdops shift:1>", "<t:1700000000>", "<:smile:1>", "[label](https://evil.example)",
    "**", "__", "~~", "`", "```", "||", "> ", ">>> ", "# ", "## ", "-# ", "- ", "1. ",
    "\\", "\\\\", "😀", "👩‍👩‍👧", "\ud800", "\udfff", "https://a.org/x_y*z", "\n", "\n\n", " ",
    "\u200b", "é", "a" * 50,
]  # fmt: skip
atoms = st.sampled_from(SPECIALS) | st.text(max_size=12)
joined = st.lists(atoms, max_size=30).map("".join)
repeated = st.tuples(joined, st.integers(1, 3000)).map(lambda t: (t[0] * t[1])[:20_000])
texts = st.one_of(st.text(), joined, repeated)
action_ids = st.builds(
    actions.encode,
    st.sampled_from([actions.ANSWER, actions.SKIP, actions.FULL]),
    st.integers(0, 30),
    st.none() | st.from_regex(r"[A-Za-z0-9_.|-]{1,60}", fullmatch=True),
)
option_values = st.from_regex(r"[A-Za-z0-9_-]{1,100}", fullmatch=True)
identities = st.one_of(
    st.from_regex(r"discord:[0-9]{1,20}", fullmatch=True),
    st.sampled_from(["slack:U0RES1", "discord:", "discord:12x", "console:bob", "discord:<@1>"]),
)
controls = st.one_of(
    st.builds(
        Button,
        action_id=action_ids,
        label=texts,
        style=st.sampled_from([None, "primary", "danger"]),
    ),
    st.builds(
        Select,
        action_id=action_ids,
        placeholder=texts,
        options=st.lists(st.builds(Option, label=texts, value=option_values), max_size=30),
        multiple=st.booleans(),
    ),
)
parts = st.one_of(
    st.builds(Heading, text=texts),
    st.builds(Paragraph, text=texts),
    st.builds(Context, text=texts),
    st.builds(FieldPart, label=texts, value=texts, full_text_action=st.none() | action_ids),
    st.builds(
        Table,
        columns=st.lists(joined, max_size=4),
        rows=st.lists(st.lists(joined, max_size=4), max_size=8),
    ),
    st.builds(Mention, identities=st.lists(identities, max_size=8), text=texts),
    st.builds(Image, filename=texts, title=texts, png_base64=st.just("AAAA")),
    st.builds(Actions, controls=st.lists(controls, min_size=1, max_size=8)),
)
messages = st.builds(Message, text=texts, parts=st.lists(parts, max_size=30))
PROPS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(messages)
def test_every_message_fits_and_pings_only_named_people(message: Message) -> None:
    payload = message_payload(message)
    assert_within_limits(payload)
    users = [u for u in discord_ids(message.parts) if f"<@{u}>" in payload["content"]]
    assert_no_pings(payload, users)
    sent = {c["custom_id"] for row in payload["components"] for c in row["components"]}
    wanted = {c.action_id for c in message.controls()} | {
        p.full_text_action for p in message.parts if isinstance(p, FieldPart) and p.full_text_action
    }
    assert sent <= wanted  # custom ids pass through exactly, never cut or made up


@PROPS
@given(st.lists(identities, max_size=150), texts)
def test_mentions_are_kept_up_to_discords_limits(ids: list[str], text: str) -> None:
    parts: list[Any] = [Mention(identities=ids, text=text)]
    payload = message_payload(Message(text="x", parts=parts))
    assert_within_limits(payload)
    wanted = discord_ids(parts)
    users = payload["allowed_mentions"].get("users", [])
    assert users == wanted[: len(users)] and len(users) <= L.MENTION_USERS
    assert_no_pings(payload, users)


@PROPS
@given(st.one_of(joined, st.text()))
def test_escaped_text_shows_as_typed(text: str) -> None:
    if "://" not in text:  # addresses are left as they are
        assert shown(markdown(text)) == clean(text).replace(ZWSP, "")


@PROPS
@given(texts, st.sampled_from(["paragraph", "field", "context", "heading"]))
def test_what_is_cut_ends_in_an_ellipsis(text: str, kind: str) -> None:
    part: Any = {
        "paragraph": Paragraph(text=text),
        "field": FieldPart(label="Reply", value=text),
        "context": Context(text=text),
        "heading": Heading(text=text),
    }[kind]
    payload = message_payload(Message(text="x", parts=[part]))
    assert_within_limits(payload)
    for where, shown_text in _texts(payload):
        if where == "content" or shown_text in (CUT_NOTE, "**Reply**", "Reply", "—", ""):
            continue
        full = markdown(text if kind in ("paragraph", "field") else " ".join(text.split()))
        body = shown_text.removeprefix("-# ").removeprefix("**Reply**\n")
        if body not in full:
            assert body.endswith("…"), body[-20:]


fields = st.builds(
    FormField,
    name=st.from_regex(r"[a-z_]{1,100}", fullmatch=True),
    label=texts,
    kind=st.sampled_from(["short", "long", "select"]),
    required=st.booleans(),
    min_length=st.integers(0, 10_000),
    max_length=st.integers(0, 10_000),
    options=st.lists(st.builds(Option, label=texts, value=option_values), max_size=30),
    initial=st.none() | texts,
    hint=st.none() | texts,
)


@PROPS
@given(
    st.builds(
        Form,
        form_id=action_ids,
        title=texts,
        fields=st.lists(fields, max_size=8, unique_by=lambda f: f.name),
        intro=st.none() | texts,
    ),
    st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), texts, max_size=3),
)
def test_every_form_fits_a_modal(form: Form, errors: dict[str, str]) -> None:
    assert_modal_within_limits(modal_payload(form, errors), form)
    reply = form_errors_reply(
        form, errors, {f.name: f.initial or "" for f in form.fields}, "k" * 22
    )
    assert_within_limits(reply)
    assert_no_pings(reply, [])
