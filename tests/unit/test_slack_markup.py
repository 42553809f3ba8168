"""Slack markup → neutral text: readable as in Slack, exact for plain typing, never
raising; and whatever comes out, relayed back to Slack it can never ping anyone,
form a link or lose a character."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.slack.blocks import CUT_NOTE, message_payload
from bots.slack.markup import channel_ids, parse, render, to_neutral, user_ids
from hdops.domain.relay import relay_text, split_text
from hdops.render.relay import relayed
from tests.unit.test_slack_blocks import SPECIALS, assert_inert, check_limits

USERS = {"U0RITA": "Rita Researcher", "U0EVIL": "<!channel> @here", "W0ENT": "Ent User"}
CHANNELS = {"C0CLAR": "clarifications", "C0EVIL": "<!everyone>"}


def slack(text: str) -> str:
    """What Slack sends for typed text: &, < and > escaped."""
    return html.escape(text, quote=False)


@pytest.mark.parametrize(
    ("markup", "neutral"),
    [
        ("see <https://example.com/faq|the FAQ>", "see the FAQ (https://example.com/faq)"),
        ("<https://example.com/a?b=1&amp;c=2>", "https://example.com/a?b=1&c=2"),
        ("<http://example.com|example.com>", "example.com"),
        ("<mailto:rita@example.com|rita@example.com>", "rita@example.com"),
        ("<mailto:rita@example.com|write to Rita>", "write to Rita (mailto:rita@example.com)"),
        ("<https://x.example|a &amp; b &lt;c&gt;>", "a & b <c> (https://x.example)"),
        ("hi <@U0RITA>", "hi @Rita Researcher"),
        ("hi <@U0RITA|rita>", "hi @Rita Researcher"),  # hdops' name first
        ("hi <@U0BOB|bob>", "hi @bob"),  # else the name in the markup
        ("hi <@U0BOB>", "hi @U0BOB"),  # else, and only then, the id
        ("in <#C0CLAR|clarifications>", "in #clarifications"),
        ("in <#C0CLAR>", "in #clarifications"),
        ("in <#C0CLAR|>", "in #clarifications"),
        ("in <#C0NONE>", "in #C0NONE"),
        ("<!here> <!channel> <!everyone>", "@here @channel @everyone"),
        ("<!here|here>", "@here"),
        ("<!subteam^S0OPS|@ops-team> please", "@ops-team please"),
        ("<!subteam^S0OPS|ops-team>", "@ops-team"),
        ("<!subteam^S0OPS>", "@user group"),
        ("<!date^1700000000^{date_short} at {time}|Nov 14, 2023>", "Nov 14, 2023"),
        ("<!date^1700000000^{date_short}>", "2023-11-14 22:13 UTC"),
        ("<!date^oops^{date}>", "a date"),
        ("A &amp; B &lt;ok&gt; &amp;lt; &amp;amp;", "A & B <ok> &lt; &amp;"),
        ("&quot;kept&quot; &#39;too&#39;", "&quot;kept&quot; &#39;too&#39;"),
        ("<>", "<>"),
        ("unclosed <https://x", "unclosed <https://x"),
    ],
)
def test_markup_reads_as_in_slack(markup: str, neutral: str) -> None:
    assert to_neutral(markup, USERS, CHANNELS) == neutral


def test_ids_to_look_up_are_distinct_and_only_those_without_a_name() -> None:
    segments = parse("<@U1> <@U2|b> <@U1> <#C1|one> <#C2> <#C2|> <#C3>")
    assert user_ids(segments) == ["U1", "U2"]
    assert channel_ids(segments) == ["C2", "C3"]


def test_names_are_one_line() -> None:
    assert render(parse("<@U1>"), {"U1": "Rita\n  Researcher "}) == "@Rita Researcher"


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(st.text() | st.lists(st.sampled_from(SPECIALS), max_size=20).map("".join))
def test_typed_text_arrives_exactly_as_typed(typed: str) -> None:
    assert to_neutral(slack(typed), USERS, CHANNELS) == typed


@dataclass(frozen=True)
class Piece:
    markup: str  # as Slack sends it
    neutral: str  # as a person reads it


labels = st.from_regex(r"[A-Za-z][A-Za-z0-9 ._&<>'-]{0,15}[A-Za-z0-9]", fullmatch=True)
urls = st.from_regex(
    r"https://[a-z]{1,8}\.example/[a-z0-9/]{0,12}(\?a=[0-9]&b=[a-z])?", fullmatch=True
)
plain = st.text(max_size=20).map(lambda t: Piece(slack(t), t))
users = st.sampled_from([*USERS, "U0BOB", "W0NONE"]).flatmap(
    lambda uid: st.one_of(
        st.just(Piece(f"<@{uid}>", "@" + USERS.get(uid, uid))),
        labels.map(
            lambda label: Piece(
                f"<@{uid}|{slack(label)}>", "@" + " ".join(USERS.get(uid, label).split())
            )
        ),
    )
)
channels = st.sampled_from([*CHANNELS, "C0NONE"]).flatmap(
    lambda cid: st.one_of(
        st.just(Piece(f"<#{cid}>", "#" + CHANNELS.get(cid, cid))),
        labels.map(lambda label: Piece(f"<#{cid}|{slack(label)}>", "#" + " ".join(label.split()))),
    )
)
links = st.tuples(urls, st.none() | labels).map(
    lambda ul: Piece(
        f"<{slack(ul[0])}|{slack(ul[1])}>" if ul[1] else f"<{slack(ul[0])}>",
        f"{ul[1]} ({ul[0]})" if ul[1] else ul[0],
    )
)
specials = st.sampled_from(
    [
        Piece("<!here>", "@here"),
        Piece("<!channel>", "@channel"),
        Piece("<!everyone>", "@everyone"),
        Piece("<!subteam^S0OPS|@ops>", "@ops"),
        Piece("<!date^1700000000^{date}|yesterday>", "yesterday"),
    ]
)
messages = st.lists(st.one_of(plain, users, channels, links, specials), max_size=25)


@settings(max_examples=300, deadline=None)
@given(messages)
def test_every_kind_of_markup_reads_as_intended(pieces: list[Piece]) -> None:
    markup = "".join(p.markup for p in pieces)
    assert to_neutral(markup, USERS, CHANNELS) == "".join(p.neutral for p in pieces)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_anything_at_all_converts_without_raising(text: str) -> None:
    assert isinstance(to_neutral(text, USERS, CHANNELS), str)


big_messages = st.one_of(
    messages.map(lambda ps: "".join(p.markup for p in ps)),
    st.tuples(messages, st.integers(1, 400)).map(
        lambda t: ("".join(p.markup for p in t[0]) * t[1])[:45_000]
    ),
    st.text(),
    # what Slack escaping makes five times longer, densely: still nothing may be cut
    st.tuples(
        st.sampled_from(["&amp;", "&lt;", "&gt;", "x&lt;", "&amp; "]), st.integers(1, 5000)
    ).map(lambda t: t[0] * t[1]),
)


@settings(max_examples=60, deadline=None)
@given(big_messages, st.sampled_from(["Rita Researcher", "<!channel>", "@everyone", "&amp;<@U1>"]))
def test_relayed_to_slack_nothing_pings_links_or_is_lost(markup: str, author: str) -> None:
    neutral = to_neutral(markup, USERS, CHANNELS)
    try:
        text = relay_text(neutral)
    except Exception:  # empty, or over 40,000: refused, nothing relayed
        return
    pieces = split_text(text)
    for number, piece in enumerate(pieces, start=1):
        message = relayed(author, piece, "researcher", part=(number, len(pieces)))
        payload = message_payload(message)
        check_limits(payload)
        assert_inert(payload)  # no <!…>, <@…>, <#…>, links, bare @here/@channel/@everyone
        assert CUT_NOTE not in str(payload["blocks"])  # every character is shown
