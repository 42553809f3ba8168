"""Hostile `/hdops` command texts from chat users, through the core's command path
(the flow harness: real core, local chat, real store).

Each is answered with one private message naming what was wrong, and the store is
left exactly as it was (the refusal rolls back even the event id and the activity
stamp it would have written).
"""

from __future__ import annotations

import pytest

from tests.corpus.conftest import HostileCase
from tests.flows.conftest import Harness
from tests.helpers import add_items, contractor, make_project, ops, table_rows

# (what it attacks, who types it, the text, what the reply must name)
CASES = [
    ("unknown subcommand", "alice", "/hdops fly", "Unknown command"),
    ("unknown sub-subcommand", "olga", "/hdops shift teleport 1", "Unknown `shift teleport`"),
    ("shell metacharacters as a command", "alice", "/hdops $(reboot)", "Unknown command"),
    ("unclosed quote", "alice", '/hdops shift list "unclosed', "Could not read"),
    ("a command of 5000 characters", "alice", "/hdops next " + "x" * 5000, "too long"),
    ("date 2026-02-30", "olga", "/hdops shift add @alice 2026-02-30 09:00-13:00", "2026-02-30"),
    ("date in year 9999", "olga", "/hdops shift add @alice 9999-12-31 09:00-13:00", "2000 to 2100"),
    ("time 25:00", "olga", "/hdops shift add @alice tomorrow 25:00-26:00", "25:00"),
    ("end before start", "olga", "/hdops shift add @alice tomorrow 13:00-09:00", "13:00-09:00"),
    ("digits of another script", "olga", "/hdops shift add @alice tomorrow ٠٩:٠٠-١٣:٠٠", "٠٩"),
    (
        "unknown zone",
        "olga",
        "/hdops shift add @alice tomorrow 09:00-13:00 --tz Mars/Olympus",
        "Mars/Olympus",
    ),
    ("zone as a path", "alice", "/hdops tz ../../etc/passwd", "unknown timezone"),
    ("unknown zone (own)", "alice", "/hdops tz Mars/Olympus", "unknown timezone"),
    ("week 54", "olga", "/hdops coverage --week 2026-W54", "2026-W54"),
    ("week in year 9999", "alice", "/hdops payouts --week 9999-W52", "2000 to 2100"),
    ("availability hour 25", "alice", "/hdops availability add mon-fri 09:00-25:00", "25:00"),
    (
        "availability unknown days",
        "alice",
        "/hdops availability add caturday 09:00-17:00",
        "caturday",
    ),
    (
        "mention of an unknown user",
        "olga",
        "/hdops shift add @mallory tomorrow 09:00-13:00",
        "mallory",
    ),
    (
        "mention of an unknown user (payouts)",
        "olga",
        "/hdops payouts adjust @mallory 5 --reason x",
        "mallory",
    ),
    ("unknown platform id", "olga", "/hdops shift list slack:U0NOBODY", "U0NOBODY"),
    ("SQL as a shift id", "olga", "/hdops shift cancel 1;DROP_TABLE_shifts", "whole number"),
    ("SQL after a shift id", "olga", "/hdops shift cancel 1 ; DROP TABLE shifts", "Usage"),
    ("SQL as a project", "olga", '/hdops project status "x\';DROP TABLE projects;--"', "x'"),
    ("SQL with an odd quote", "olga", "/hdops project status x';DROP", "No closing quotation"),
    ("SQL as a tautology", "olga", '/hdops project status "\' OR 1=1 --"', "OR 1=1"),
    ("id beyond 64 bits", "olga", "/hdops shift cancel 99999999999999999999", "whole number"),
    ("id zero", "olga", "/hdops shift cancel 0", "between 1 and"),
    ("unknown option", "olga", "/hdops coverage --format xml", "--format"),
    ("a check-in fix at 25:00", "alice", "/hdops checkin fix 25:00 forgot", "no check-in"),
    ("a swap with nobody", "alice", "/hdops shift swap 1 @mallory", "mallory"),
]


@pytest.mark.parametrize(("attack", "user", "text", "names"), CASES, ids=[c[0] for c in CASES])
async def test_a_hostile_command_text_is_one_clear_refusal(
    harness: Harness, hostile: HostileCase, attack: str, user: str, text: str, names: str
) -> None:
    h = harness
    with h.store.unit_of_work() as s:
        add_items(s, make_project(s), 2)
        contractor(s, "alice")
        ops(s, "olga")
    before = table_rows(h.store)
    reply = h.chat.command(user, text)
    assert reply.message is not None and reply.form is None, attack
    said = reply.message.plain()
    assert names in said, (attack, said)
    assert "Traceback" not in said and "did not work" not in said, said
    assert len(said) < 1000, said[:200]
    assert table_rows(h.store) == before, attack
    await h.flush()
    hostile.refused()
