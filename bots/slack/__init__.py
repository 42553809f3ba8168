"""The Slack adapter: Block Kit rendering, the bolt app and the outbox port."""
