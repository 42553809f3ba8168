"""Use cases. Each function takes a unit of work (a `Session`) plus plain inputs,
checks roles, changes state and records audit/outbox rows in that transaction."""
