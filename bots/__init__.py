"""Chat adapters (Slack, Discord, local) and the composition roots that wire the
core to them (`bots.cli`: `hdops run`, `hdops chat`, `hdops demo`)."""
