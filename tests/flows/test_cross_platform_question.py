"""A question asked on one platform is answered on another (issue 13 point 5).

The project names Slack as its clarifications home; alice works in the local
chat (standing in for Discord: any platform other than the home one). Her
question is posted only in the Slack channel, addressed to Slack so no other
process takes it; rita answers in its Slack thread, and the reply reaches alice
in her own task thread in the local chat.
"""

from __future__ import annotations

from sqlalchemy import select

from bots.local.platform import LocalChat
from bots.runtime import bootstrap
from hdops.clock import FakeClock
from hdops.config import Settings
from hdops.services.people import add_person
from hdops.store.db import Store
from hdops.store.orm import OutboxMessage
from tests.helpers import T0, add_items, contractor, make_project
from tests.integration.test_delivery import ScriptedPort

CLARIFICATIONS = {"slack_channel": "C0CLAR", "console_channel": "clarifications", "home": "slack"}


async def test_a_contractor_elsewhere_gets_the_answer_from_slack(store: Store) -> None:
    with store.unit_of_work() as s:
        add_items(
            s, make_project(s, clarifications=CLARIFICATIONS, researchers=["slack:U0RITA"]), 3
        )
        contractor(s, "alice")
        add_person(s, "rita", identities=["slack:U0RITA"], roles=["researcher"])
    slack = ScriptedPort()
    runtime = bootstrap(Settings(), store, [LocalChat, slack], FakeClock(T0))
    chat = runtime.port("console")
    assert isinstance(chat, LocalChat)

    chat.command("alice", "next")
    await runtime.deliverer.deliver_due()
    task = chat.open_tasks("alice")[0]
    chat.press("alice", task.id, "Ask a question")
    chat.submit("alice", {"question": "Is a tie allowed?"})
    with store.read() as s:
        post = s.scalars(
            select(OutboxMessage).where(OutboxMessage.payload["ref"].as_string() == "clar:1")
        ).one()
        assert post.platform == "slack"  # addressed to the home platform only
    await runtime.deliverer.deliver_due()
    posted = [c for c in slack.calls if c.op == "post"]
    assert [c.channel for c in posted] == ["C0CLAR"]
    assert chat.channel("clarifications") == []  # not posted twice

    reply = runtime.core.thread_reply(
        "slack:U0RITA", "slack", "C0CLAR", posted[0].ref.message_id, "Yes, ties are fine.", "ev1"
    )
    assert reply.message is None  # relayed, nothing to say back
    await runtime.deliverer.deliver_due()
    relayed = [m.text for m in chat.thread(task.id)]
    assert any("rita (researcher): Yes, ties are fine." in t for t in relayed), relayed
