"""Slack text: escaping for mrkdwn, mention-proofing for plain_text, and
length-safe truncation.

Everything the core hands the Slack adapter is plain text (see `hdops.chat`).
Before it goes into a Block Kit text object it passes through one of:

* `escape_mrkdwn` for `mrkdwn` objects (sections, context): `&`, `<` and `>`
  become entities, so nothing can form `<!channel>`, `<@U…>`, `<#C…>` or a
  `<https://…|link>`; `@here` / `@channel` / `@everyone` get a zero-width space
  after the `@` (defence in depth: we also send mrkdwn with `verbatim: true`, so
  Slack does not auto-parse them anyway).
* `plain_text` for `plain_text` objects (headers, buttons, options, titles,
  labels): Slack shows those verbatim and decodes no entities, so escaping would
  show `&amp;`; instead a zero-width space goes between `<` and `!`/`@`/`#`.

Lengths are counted by `slack_len`, in UTF-16 code units: never less than
Python's `len` (code points), and what a JavaScript backend counts, so a limit
met in `slack_len` holds whichever way Slack counts characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bots.common import fitting
from bots.common.fitting import ELLIPSIS, clean, is_blank

ZWSP = "\u200b"
_SIGIL = re.compile(r"<(?=[!@#])")
# `@here` & co., but not inside a word or an address such as `ops@here.com`.
_BROADCAST = re.compile(r"(?<![^\W_])@(?=(?:everyone|here|channel)\b)", re.IGNORECASE)
_BROADCAST_HEAD = re.compile(r"@(?:everyone|here|channel)\b", re.IGNORECASE)
_BROADCAST_TAIL = re.compile(r"@(?:everyone|here|channel)$", re.IGNORECASE)
# A cut may land inside an entity written by `escape_mrkdwn`: never leave half of one.
_ENTITIES = ("&amp;", "&lt;", "&gt;")

__all__ = [
    "ELLIPSIS",
    "ZWSP",
    "clean",
    "defang_start",
    "escape_mrkdwn",
    "is_blank",
    "mend_cut",
    "plain_text",
    "slack_len",
    "truncate",
]


def escape_mrkdwn(text: str) -> str:
    """Make user text safe and literal inside a mrkdwn text object."""
    text = clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@" + ZWSP, text)


def plain_text(text: str) -> str:
    """Make user text safe inside a plain_text object (shown verbatim by Slack)."""
    text = _SIGIL.sub("<" + ZWSP, clean(text))
    return _BROADCAST.sub("@" + ZWSP, text)


def defang_start(text: str) -> str:
    """For a piece cut from a longer text: `x@here` was no broadcast, but a piece
    that starts at its `@here` would be."""
    return "@" + ZWSP + text[1:] if _BROADCAST_HEAD.match(text) else text


def slack_len(text: str) -> int:
    """Length as Slack may count it: UTF-16 code units (astral characters count 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def truncate(
    text: str,
    limit: int,
    *,
    measure: Callable[[str], int] = slack_len,
    ellipsis: str = ELLIPSIS,
) -> str:
    """`bots.common.fitting.truncate` counted in `slack_len` (by default), never
    ending inside an entity or on a word the cut turns into a broadcast."""
    return fitting.truncate(text, limit, measure=measure, ellipsis=ellipsis, mend=mend_cut)


def mend_cut(prefix: str) -> str:
    """A cut must not leave half an entity (`&am`), nor end right after a word that
    the cut turns into a broadcast (`@channel0` → `@channel…`): drop such a tail."""
    prefix = _drop_partial_entity(prefix)
    tail = _BROADCAST_TAIL.search(prefix)
    return prefix[: tail.start()] if tail else prefix


def _drop_partial_entity(prefix: str) -> str:
    amp = prefix.rfind("&", max(0, len(prefix) - 4))
    if amp >= 0:
        tail = prefix[amp:]
        if any(e.startswith(tail) and e != tail for e in _ENTITIES):
            return prefix[:amp]
    return prefix
