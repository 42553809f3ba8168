"""The Discord adapter (discord.py 2.x): translation only, on the shared layer in
`bots.common`.

Today it holds the pure half: `render` turns the core's neutral messages, forms
and replies into Discord API payloads within Discord's limits (`limits`), with
user text escaped (`text`), and `drafts` keeps what a person typed into a form
that Discord cannot mark field by field. The client (app_commands, persistent
views, the ChatPort) comes next and only sends what `render` builds.
"""
