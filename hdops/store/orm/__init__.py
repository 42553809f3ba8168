"""The whole domain as SQLAlchemy 2.0 typed ORM models.

This package is the single definition of the schema. Alembic migrations under
`hdops/store/migrations` must agree with it exactly; a test compares the
migrated database with these models on SQLite and PostgreSQL.

The models are split by aggregate (one module each: people, projects, work,
clarifications, shifts, payouts, audit, messaging) on one declarative `Base`
(`hdops.store.orm.base`). Importing `hdops.store.orm` imports every one of them,
so `Base.metadata` always holds the whole schema and the payout guards
(`hdops.store.orm.payout_guards`) are always registered; every model is
re-exported here, so `from hdops.store.orm import Person` keeps working.

Conventions:
* every timestamp is `UTCDateTime` (aware UTC in, aware UTC out);
* every amount of money is `Money` (exact Decimal), never a float;
* enumerations are short strings checked in the service layer, so adding a
  value never needs a migration;
* indexes are named for the hot query they serve.
"""

from __future__ import annotations

from hdops.store.orm.audit import AuditEntry
from hdops.store.orm.base import NAMING_CONVENTION, Base, JsonDict
from hdops.store.orm.clarifications import Clarification, ClarificationMessage
from hdops.store.orm.messaging import MessageRef, OutboxMessage, PaceCell, ProcessedEvent
from hdops.store.orm.payout_guards import ApprovedPayoutChange
from hdops.store.orm.payouts import Adjustment, Dispute, PayoutLine, PayoutStatement, PayoutWeek
from hdops.store.orm.people import (
    ContractorProfile,
    Identity,
    Person,
    Pseudonym,
    RateChange,
    RoleGrant,
)
from hdops.store.orm.projects import Batch, FaqEntry, InstructionVersion, Item, Project
from hdops.store.orm.shifts import Availability, Shift, TimeEntry
from hdops.store.orm.work import Answer, Assignment

__all__ = [
    "NAMING_CONVENTION",
    "Adjustment",
    "Answer",
    "ApprovedPayoutChange",
    "Assignment",
    "AuditEntry",
    "Availability",
    "Base",
    "Batch",
    "Clarification",
    "ClarificationMessage",
    "ContractorProfile",
    "Dispute",
    "FaqEntry",
    "Identity",
    "InstructionVersion",
    "Item",
    "JsonDict",
    "MessageRef",
    "OutboxMessage",
    "PaceCell",
    "PayoutLine",
    "PayoutStatement",
    "PayoutWeek",
    "Person",
    "ProcessedEvent",
    "Project",
    "Pseudonym",
    "RateChange",
    "RoleGrant",
    "Shift",
    "TimeEntry",
]
