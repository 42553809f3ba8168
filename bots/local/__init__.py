"""The local chat platform: an in-process chat that records every message, thread
and form. Tests, the demo and `hdops chat` use it in place of Slack or Discord."""
