"""Slack message markup → neutral text, the way a person reads it in Slack.

What a person types reaches an app as Slack markup: `&`, `<` and `>` escaped as
`&amp;`, `&lt;`, `&gt;`, and everything inside `<…>` is markup:

| markup                                  | neutral text                      |
|-----------------------------------------|-----------------------------------|
| `<https://x.org/faq|the FAQ>`           | `the FAQ (https://x.org/faq)`     |
| `<https://x.org>`, `<http://x.org|x.org>` | `https://x.org`, `x.org`        |
| `<@U123>`, `<@U123|rita>`               | `@Rita Researcher` (see below)    |
| `<#C123|general>`, `<#C123>`            | `#general`                        |
| `<!here>`, `<!channel>`, `<!everyone>`  | `@here`, `@channel`, `@everyone`  |
| `<!subteam^S123|@ops-team>`             | `@ops-team`                       |
| `<!date^1700000000^{date}|Nov 14>`      | `Nov 14`                          |

A link whose label is its own address (Slack writes `<http://x.org|x.org>` for a
typed `x.org`) stays as typed. Names of people and channels are looked up by
the caller (`bots.slack.names`) and passed to `render`; an id nobody could name
falls back to the name Slack embedded in the markup, else to the id itself.

The result is plain text that may *say* `@here` or carry an address: it is
inert until a platform renders it, and every adapter escapes what it renders
(`defang_mentions`, `bots.slack.text`), so relayed text can never ping anyone
or hide a link behind a label. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

# Typed `<` and `>` arrive escaped, so every `<…>` in a message is markup.
_TOKEN = re.compile(r"<([^<>]*)>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(?://)?")
_BROADCASTS = {"here": "@here", "channel": "@channel", "everyone": "@everyone", "group": "@channel"}


@dataclass(frozen=True)
class UserMention:
    user_id: str
    label: str | None  # the name Slack put after `|`, if any


@dataclass(frozen=True)
class ChannelMention:
    channel_id: str
    label: str | None


Segment = str | UserMention | ChannelMention  # a `str` is already neutral text


def unescape(text: str) -> str:
    """Undo Slack's three escapes, in one pass (`&amp;lt;` is the typed `&lt;`)."""
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def parse(text: str) -> list[Segment]:
    """Split Slack message text into neutral text and the mentions that need names."""
    segments: list[Segment] = []
    last = 0
    for match in _TOKEN.finditer(text):
        if match.start() > last:
            segments.append(unescape(text[last : match.start()]))
        segments.append(_token(match.group(1)))
        last = match.end()
    if last < len(text):
        segments.append(unescape(text[last:]))
    return segments


def _token(body: str) -> Segment:
    target, _, label = body.partition("|")
    label_text = unescape(label).strip() or None
    if target.startswith("@"):
        return UserMention(target[1:], label_text)
    if target.startswith("#"):
        return ChannelMention(target[1:], label_text)
    if target.startswith("!"):
        return _special(target[1:], label_text)
    if not target:
        return unescape(f"<{body}>")  # not markup Slack writes: keep what is there
    return _link(unescape(target), label_text)


def _special(target: str, label: str | None) -> str:
    """`<!here>`, `<!subteam^S…|@team>`, `<!date^…|fallback>` and the like."""
    word, _, rest = target.partition("^")
    if word in _BROADCASTS:
        return _BROADCASTS[word]
    if word == "subteam":
        name = label or "user group"
        return name if name.startswith("@") else f"@{name}"
    if word == "date":
        return label or _date_fallback(rest)
    return label or f"@{word}"


def _date_fallback(rest: str) -> str:
    """Slack requires a fallback for dates; should one be missing, the UTC time."""
    try:
        when = datetime.fromtimestamp(int(rest.partition("^")[0]), UTC)
    except (ValueError, OverflowError, OSError):
        return "a date"
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _link(url: str, label: str | None) -> str:
    if label is None or label == url or label == _SCHEME.sub("", url):
        return label or url
    return f"{label} ({url})"


def user_ids(segments: Iterable[Segment]) -> list[str]:
    """The distinct user ids mentioned, in order of appearance."""
    return list(dict.fromkeys(s.user_id for s in segments if isinstance(s, UserMention)))


def channel_ids(segments: Iterable[Segment]) -> list[str]:
    """The distinct ids of channels mentioned without a name."""
    return list(
        dict.fromkeys(
            s.channel_id for s in segments if isinstance(s, ChannelMention) and s.label is None
        )
    )


def render(
    segments: Iterable[Segment],
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
) -> str:
    """Neutral text, with people and channels named from `users` / `channels`
    ({id: name}), else from the markup's own label, else by their id."""
    users, channels = users or {}, channels or {}
    out: list[str] = []
    for segment in segments:
        if isinstance(segment, UserMention):
            name = users.get(segment.user_id) or segment.label or segment.user_id
            out.append("@" + _one_line(name).lstrip("@"))
        elif isinstance(segment, ChannelMention):
            name = segment.label or channels.get(segment.channel_id) or segment.channel_id
            out.append("#" + _one_line(name).lstrip("#"))
        else:
            out.append(segment)
    return "".join(out)


def to_neutral(
    text: str,
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
) -> str:
    """`render(parse(text), users, channels)`."""
    return render(parse(text), users, channels)


def _one_line(name: str) -> str:
    return " ".join(name.split())
