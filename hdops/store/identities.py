"""Queries on platform identities that front ends need without a use case around them."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from hdops.store.orm import Identity, Person


def display_names(session: Session, platform: str, external_ids: Collection[str]) -> dict[str, str]:
    """{external id: display name} for those of `external_ids` that are identities of
    hdops people on `platform` (unknown ids are left out)."""
    if not external_ids:
        return {}
    rows = session.execute(
        select(Identity.external_id, Person.display_name)
        .join(Person, Person.id == Identity.person_id)
        .where(Identity.platform == platform, Identity.external_id.in_(list(external_ids)))
    )
    return {external_id: name for external_id, name in rows}
