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
import unicodedata
from collections.abc import Callable

ZWSP = "\u200b"
ELLIPSIS = "…"

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SIGIL = re.compile(r"<(?=[!@#])")
# `@here` & co., but not inside a word or an address such as `ops@here.com`.
_BROADCAST = re.compile(r"(?<![^\W_])@(?=(?:everyone|here|channel)\b)", re.IGNORECASE)
_BROADCAST_HEAD = re.compile(r"@(?:everyone|here|channel)\b", re.IGNORECASE)
_BROADCAST_TAIL = re.compile(r"@(?:everyone|here|channel)$", re.IGNORECASE)
# A cut may land inside an entity written by `escape_mrkdwn`: never leave half of one.
_ENTITIES = ("&amp;", "&lt;", "&gt;")


def clean(text: str) -> str:
    """Replace lone surrogates (which cannot be encoded as UTF-8 JSON) with U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)


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


_INVISIBLE = frozenset(("Cc", "Cf", "Zs", "Zl", "Zp"))


def is_blank(text: str) -> bool:
    """Nothing visible: only whitespace, control and format characters (zero-width
    spaces, joiners, BOM, direction marks). Slack rejects empty text objects and
    trims before checking; we do not rely on how much it trims."""
    return all(ch.isspace() or unicodedata.category(ch) in _INVISIBLE for ch in text)


def truncate(
    text: str,
    limit: int,
    *,
    measure: Callable[[str], int] = slack_len,
    ellipsis: str = ELLIPSIS,
) -> str:
    """`text` if it fits in `limit` (as counted by `measure`), else its longest
    prefix that fits together with `ellipsis`, never ending inside an entity.

    `measure` must be additive over characters (`slack_len`, a JSON size…).
    Returns "" only when not even the ellipsis fits."""
    if measure(text) <= limit:
        return text
    room = limit - measure(ellipsis)
    if room < 0:
        return ""
    # Longest prefix text[:lo] with measure <= room; every character costs at least 1.
    lo, hi = 0, min(len(text), room)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[:mid]) <= room:
            lo = mid
        else:
            hi = mid - 1
    return _mend_cut(text[:lo]) + ellipsis


def _mend_cut(prefix: str) -> str:
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
