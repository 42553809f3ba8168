"""The action-id codec: every button, select and form carries one of these.

Format: `hd:<verb>:<id>[:<arg>]`, at most 100 characters (Discord's custom_id
limit; Slack allows 255), ids only — never names or text. Adapters match the
`hd:` prefix (a regex in bolt, a DynamicItem template in discord.py) and hand
the string to the core, which decodes it here and re-checks in the database that
the person acting may do it: an action id is never trusted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hdops.errors import UnknownControl

MAX_LEN = 100
PREFIX = "hd"
ACTION_RE = re.compile(r"^hd:[a-z_]{1,12}:[0-9]{1,18}(?::[A-Za-z0-9_.|-]{1,60})?$")

# Verbs and what the id / arg mean.
ANSWER = "ans"  # id=assignment, arg=value (absent for selects: values come with the event)
SKIP = "skip"  # id=assignment -> opens the skip-reason form
ASK = "ask"  # id=assignment -> opens the question form
TEXT = "text"  # id=assignment -> opens the text-answer form
FULL = "full"  # id=assignment, arg=field index -> shows the full field text
INSTRUCTIONS = "instr"  # id=instruction version -> shows instructions + FAQ privately
RESOLVE = "resolve"  # id=clarification
FAQ = "faq"  # id=clarification -> opens the FAQ form
APPROVE = "approve"  # id=ISO year*100+week -> approve payouts
DISPUTE = "dispute"  # id=payout line
SWAP_OK = "swap_ok"  # id=shift, arg=person
SWAP_NO = "swap_no"  # id=shift, arg=person
CHECKIN_FIX = "timefix"  # id=time entry closed automatically -> opens the correction form

# Form ids use the same codec with verbs prefixed "f_".
F_TEXT = "f_text"  # id=assignment
F_RATIONALE = "f_rat"  # id=assignment, arg=answer value
F_ASK = "f_ask"  # id=assignment
F_SKIP = "f_skip"  # id=assignment
F_FAQ = "f_faq"  # id=clarification
F_DISPUTE = "f_disp"  # id=payout line
F_CHECKIN_FIX = "f_timefix"  # id=time entry


@dataclass(frozen=True)
class Action:
    verb: str
    id: int
    arg: str | None = None

    def encode(self) -> str:
        return encode(self.verb, self.id, self.arg)


def encode(verb: str, ident: int, arg: str | None = None) -> str:
    text = f"{PREFIX}:{verb}:{ident}" + (f":{arg}" if arg is not None else "")
    if len(text) > MAX_LEN or not ACTION_RE.match(text):
        raise ValueError(f"cannot encode action {text!r}")
    return text


def decode(text: str) -> Action:
    if len(text) > MAX_LEN or not ACTION_RE.match(text):
        raise UnknownControl("That button is not recognised (it may be from an old version).")
    _, verb, ident, *rest = text.split(":", 3)
    return Action(verb, int(ident), rest[0] if rest else None)
