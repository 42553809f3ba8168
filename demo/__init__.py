"""`hdops demo`: the whole system on simulated people and a simulated clock.

Not a chat adapter (hence not under `bots/`): like a test harness it composes the
core, the local chat platform and the scheduled jobs. `demo.simulation` builds a
fresh SQLite database, loads an example project and drives simulated contractors
and researchers through the real core, outbox and local chat platform;
`demo.report` renders the figures the product's report services read back from the
database; `demo.command` is the CLI entry point, registered by `bots.cli`.
"""

from __future__ import annotations

from demo.simulation import DemoResult, run_demo, run_demo_async

__all__ = ["DemoResult", "run_demo", "run_demo_async"]
