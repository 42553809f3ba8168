"""Discord's documented limits, and how we count characters against them.

Sources: discord.com/developers/docs (Message, Embed limits, Components, Modals,
Allowed mentions) and the vendored OpenAPI spec (/work/shared/specs/discord);
where the two disagree (content 4000 vs 2000) the documentation wins.

Counting: Discord's API counts Unicode code points (its backend is Python; staff
answer in discord/discord-api-docs#1315). We count UTF-16 code units instead
(`discord_len`): never fewer than code points, so every limit we meet also holds
for a client or proxy that counts the JavaScript way, at the cost of a little
room for astral characters (emoji count 2).
"""

from __future__ import annotations

CONTENT = 2000  # message content
EMBEDS = 10  # embeds per message
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
EMBED_TOTAL = 6000  # all titles, descriptions, field names/values, footers, authors

ROWS = 5  # action rows per message
ROW_BUTTONS = 5  # buttons per row; a select fills a row alone
CUSTOM_ID = 100  # button, select, modal and text input custom_id (1-100, unique)
BUTTON_LABEL = 80
PLACEHOLDER = 150
OPTIONS = 25  # select options
OPTION_TEXT = 100  # option label, value and description

MODAL_TITLE = 45
MODAL_COMPONENTS = 5  # top-level components of a modal (labels, text displays)
INPUT_LABEL = 45
INPUT_DESCRIPTION = 100  # a label's description line (our field hint)
INPUT_VALUE = 4000  # text input value, min_length and max_length
TEXT_DISPLAY = 4000

MENTION_USERS = 100  # allowed_mentions.users


def discord_len(text: str) -> int:
    """Length in UTF-16 code units (astral characters count 2): see the module docstring."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2
