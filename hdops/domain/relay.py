"""What a person writes in a relay thread, made ready to pass on (SPEC §6).

Clarification and dispute threads relay every reply to the other side. A reply
arrives from an adapter as neutral text (platform markup already turned into
readable words) plus the files it carried; this module checks it, folds the
files into the text and splits a long text into pieces that each fit one
message on every platform we serve. Pure functions: no I/O, no platform.

Limits, and why:

* `MAX_RELAY_CHARS` = 40,000: Slack's own message limit (it truncates beyond),
  the largest of our platforms. Below it nothing is refused (SPEC §6); above it
  the person is told the size and the limit. Only the written text counts: the
  lines naming shared files never push a reply over. Mentions count as the
  names they became, so a Slack message right at the limit that is mostly
  mentions could come out a little longer and be refused; nobody writes those.
* `CHUNK_UNITS` = 1,800 UTF-16 code units per piece. Discord allows 2,000
  characters of message content: a piece plus its label (author, role,
  "(3/12)", at most ~200) fits as plain content, and even with every character
  escaped for Discord markdown (at most doubled) it fits an embed description
  (4,096). Slack allows 3,000 per section: a plain piece fits one section
  beside its label, and the Slack renderer continues a field that escaping
  made longer (`&`, `<`, `>` grow up to five-fold) in further sections, within
  its 10,000-character message budget (1,800 x 5 = 9,000). UTF-16 units are
  never fewer than code points and are what JavaScript back ends count, so the
  bound holds however a platform counts.

Pieces are cut at a paragraph break, else a line break, else a space, in the
second half of the window; a word longer than half a piece is cut inside,
never between a character and the marks or joiners that belong to it.
Concatenating the pieces gives back the text exactly (separators stay at the
end of the piece they follow), so nothing is lost or reordered.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from hdops.errors import InvalidInput

MAX_RELAY_CHARS = 40_000
CHUNK_UNITS = 1_800
_BREAKS = ("\n\n", "\n", " ")
_ZWJ = "\u200d"


@dataclass(frozen=True)
class SharedFile:
    """A file a person attached to a reply: relayed as its name and link (the file
    itself stays where it was shared; hdops does not download or re-upload it)."""

    name: str
    url: str | None = None


def units(text: str) -> int:
    """Length in UTF-16 code units (characters beyond U+FFFF count 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def relay_text(text: str, files: Sequence[SharedFile] = ()) -> str:
    """The text to relay: what was written, then one line per shared file.

    Raises InvalidInput when there is nothing to relay, or when the written text
    is longer than `MAX_RELAY_CHARS`."""
    written = (text or "").strip()
    if len(written) > MAX_RELAY_CHARS:
        raise InvalidInput(
            f"The message is too long to relay ({len(written):,} characters; "
            f"at most {MAX_RELAY_CHARS:,}). Please split it into several messages."
        )
    lines = [_file_line(f) for f in files]
    body = "\n\n".join(p for p in (written, "\n".join(lines)) if p)
    if not body:
        raise InvalidInput("The message is empty.")
    return body


def _file_line(file: SharedFile) -> str:
    name = " ".join(file.name.split()) or "a file"
    return f"File: {name} ({file.url})" if file.url else f"File: {name}"


def split_text(text: str, size: int = CHUNK_UNITS) -> list[str]:
    """`text` in pieces of at most `size` UTF-16 units whose concatenation is
    `text` (see the module docstring for where it cuts)."""
    if size < 2:
        raise ValueError("pieces must hold at least 2 units")
    pieces: list[str] = []
    rest = text
    while units(rest) > size:
        cut = _fitting_prefix(rest, size)
        for sep in _BREAKS:
            pos = rest.rfind(sep, 0, cut)
            if pos > 0 and pos + len(sep) >= cut // 2:
                cut = pos + len(sep)
                break
        else:
            cut = _keep_clusters(rest, cut)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        pieces.append(rest)
    return pieces


def _fitting_prefix(text: str, size: int) -> int:
    """The number of code points of the longest prefix of `text` within `size` units."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > size:
            return i
    return len(text)


def _keep_clusters(text: str, cut: int) -> int:
    """Move a cut inside a word back so that combining marks, variation selectors
    and zero-width joiners stay with the character before them (a few steps at
    most; a pathological run of marks is cut anyway)."""
    for _ in range(8):
        if cut <= 1 or not _binds_to_previous(text, cut):
            return cut
        cut -= 1
    return cut


def _binds_to_previous(text: str, cut: int) -> bool:
    after, before = text[cut], text[cut - 1]
    return (
        unicodedata.combining(after) != 0
        or unicodedata.category(after) == "Me"
        or after == _ZWJ
        or before == _ZWJ
        or "\ufe00" <= after <= "\ufe0f"
        or "\U0001f3fb" <= after <= "\U0001f3ff"  # skin tone modifiers
    )
