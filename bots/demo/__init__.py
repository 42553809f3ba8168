"""`hdops demo`: the whole system on simulated people and a simulated clock.

`bots.demo.simulation` builds a fresh SQLite database, loads an example project
and drives simulated contractors and researchers through the real core, outbox
and local chat platform; `bots.demo.report` reads the figures back from the
database; `bots.demo.command` is the CLI entry point.
"""

from __future__ import annotations

from bots.demo.simulation import DemoResult, run_demo, run_demo_async

__all__ = ["DemoResult", "run_demo", "run_demo_async"]
