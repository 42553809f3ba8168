"""Discord text: user text made literal and unable to mention anyone, and cut
within a limit without breaking an escape.

Everything the core hands us is plain text (`hdops.chat`). Discord renders
markdown in message content, embed titles, descriptions and field names/values,
so there `markdown` backslash-escapes every character markdown could act on
(backslash, asterisk, underscore, tilde, backtick, bar, `>`, `#`, `-`, `+`,
square brackets, and `.` after a digit, which starts `1. ` lists).
Discord drops a backslash before punctuation, so the text reads as typed, and
escaping everywhere rather than only at a line start means any piece cut out of
an escaped text is still escaped. Web addresses are left unescaped so they stay
links, as `discord.utils.escape_markdown(ignore_links=True)` does; markdown
inside an address has no effect in Discord.

Mentions are defanged in every text we send, markdown or not: a zero-width space
after `@` in `@everyone`, `@here` and `@<digits>`, and after `<` wherever `<`
opens Discord markup (`<@id>`, `<@!id>`, `<@&role>`, `<#channel>`, `</cmd:id>`,
`<t:…>`, `<:emoji:id>`, `<a:…>`). The zero-width space is invisible, so the text
still reads as written. (Payloads also carry `allowed_mentions` that parse
nothing: defence in depth.) Plain texts (button labels, options, placeholders,
footers, modal texts) are shown verbatim by Discord, so `plain` only cleans,
defangs and puts them on one line.
"""

from __future__ import annotations

import re

from bots.common import fitting
from bots.common.fitting import ELLIPSIS, clean, is_blank
from bots.discord.limits import discord_len

__all__ = [
    "ELLIPSIS",
    "ZWSP",
    "clean",
    "code_block",
    "defang",
    "is_blank",
    "markdown",
    "mend",
    "plain",
]

ZWSP = "\u200b"
_URL = re.compile(r"(?:https?|steam)://[^\s<]+[^<.,:;\"'\]\s]")
_MARKDOWN = re.compile(r"[\\*_~`|>#\-+\[\]]|(?<=[0-9])\.")
_AT = re.compile(r"@(?=everyone|here|[!&]?[0-9])", re.IGNORECASE)
_MARKUP_OPEN = re.compile(r"<(?=[@#/:!&]|t:|a:)")
_BACKTICK = re.compile(r"`")
_LINK_JOIN = re.compile(r"\](?=\()")


def defang(text: str) -> str:
    """No mention, broadcast or Discord markup can form from `text` (see module)."""
    return _MARKUP_OPEN.sub("<" + ZWSP, _AT.sub("@" + ZWSP, clean(text)))


def markdown(text: str) -> str:
    """`text` shown literally where Discord renders markdown, and defanged."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        out.append(_MARKDOWN.sub(r"\\\g<0>", text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_MARKDOWN.sub(r"\\\g<0>", text[last:]))
    # `[text](url)` is already no link once its brackets are escaped; a zero-width
    # space between `]` and `(` as well, as the core does (defence in depth).
    return defang(_LINK_JOIN.sub("]" + ZWSP, "".join(out)))


def code_block(text: str) -> str:
    """The inside of a ``` block: no escapes work there, so a zero-width space after
    each backtick keeps the text from closing the block; defanged as well."""
    return defang(_BACKTICK.sub("`" + ZWSP, text))


def plain(text: str, limit: int, default: str) -> str:
    """A one-line text shown verbatim (labels, options, footers), within `limit`;
    `default` if nothing visible is left."""
    line = " ".join(clean(text).split())
    if is_blank(line):
        return default
    return truncate(defang(line), limit)


def mend(prefix: str) -> str:
    """Where a cut may end: not on half of an escape (a trailing odd backslash
    would escape the ellipsis, or leave the next piece's first character bare)."""
    trailing = len(prefix) - len(prefix.rstrip("\\"))
    return prefix[:-1] if trailing % 2 else prefix


def truncate(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """`bots.common.fitting.truncate` counted in `discord_len`, mended for Discord."""
    return fitting.truncate(text, limit, measure=discord_len, ellipsis=ellipsis, mend=mend)


def chunks(text: str, size: int) -> list[str]:
    """Non-blank pieces of at most `size` (`discord_len`), cut where escapes allow."""
    return fitting.chunks(text, size, measure=discord_len, mend=mend)
