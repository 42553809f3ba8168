"""`/hdops role grant|revoke @user ROLE` (SPEC §1): admins manage roles in chat.

The same service as `hdops role grant|revoke` on the CLI, so the change is audited
with the admin as its actor. Anyone else is refused (and the refusal is audited
by the core, like every refusal).
"""

from __future__ import annotations

from hdops.chat import Reply
from hdops.commands import Invocation, command
from hdops.errors import InvalidInput
from hdops.render import roles as render
from hdops.services import people

GRANT_USAGE = "role grant @user ROLE"
REVOKE_USAGE = "role revoke @user ROLE"
ROLE_NAMES = "contractor, researcher, ops or admin"


def _person_and_role(inv: Invocation, usage: str) -> tuple[str, str]:
    if len(inv.args) != 2:
        raise InvalidInput(f"Usage: /hdops {usage} (ROLE: {ROLE_NAMES})")
    return inv.args[0], inv.args[1].lower()


@command("role grant", roles=("admin",), usage=GRANT_USAGE, summary="give someone a role")
def grant(inv: Invocation) -> Reply:
    ref, role = _person_and_role(inv, GRANT_USAGE)
    name = people.get_person(inv.session, ref).name
    changed = people.grant_role(inv.session, ref, role, actor_id=inv.person.id)
    return Reply.say(render.role_granted(name, role, changed) + ".")


@command("role revoke", roles=("admin",), usage=REVOKE_USAGE, summary="take a role away")
def revoke(inv: Invocation) -> Reply:
    ref, role = _person_and_role(inv, REVOKE_USAGE)
    name = people.get_person(inv.session, ref).name
    changed = people.revoke_role(inv.session, ref, role, actor_id=inv.person.id)
    return Reply.say(render.role_revoked(name, role, changed) + ".")
