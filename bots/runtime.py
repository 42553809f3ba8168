"""The composition root: the one place that wires hdops together.

`bootstrap(settings, store, ports, clock)` builds the core, the outbox deliverer
(with the chat ports it sends through) and, when asked, the scheduler and the
metrics; `hdops run`, `hdops chat`, the demo and the tests all start from it, so
they run the same wiring: the core wakes the deliverer after each commit and
hands it what it enqueued, failures are counted, each port is registered under
its platform. What differs between them is said in the arguments.

A port that needs the core (the local chat acts as people through it) is given
as a factory, `lambda core: LocalChat(core)`; a port that does not (Slack's,
made from the settings) as an instance, or attached afterwards with `add_port`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from bots import metrics
from bots.metrics import RuntimeMetrics
from hdops.clock import Clock, SystemClock
from hdops.config import Settings
from hdops.core import Core
from hdops.ports import ChatPort
from hdops.services.delivery import Deliverer
from hdops.services.shared_pacing import pacing_for
from hdops.store.db import Store
from hdops.store.scheduling import leadership_for
from schedules.scheduler import SchedulerService

PortSource = ChatPort | Callable[[Core], ChatPort]


@dataclass
class Runtime:
    """What a platform adapter plugs into: the core, the deliverer, the store."""

    store: Store
    settings: Settings
    clock: Clock
    core: Core
    deliverer: Deliverer
    tasks: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    # Scheduled jobs (shift reminders, sweeps, digests); None: the caller drives time.
    scheduler: SchedulerService | None = None
    metrics: RuntimeMetrics | None = None  # for GET /metrics

    def add_port(self, port: ChatPort) -> ChatPort:
        self.deliverer.ports[port.platform] = port
        return port

    def port(self, platform: str) -> ChatPort:
        return self.deliverer.ports[platform]

    def health(self) -> dict[str, Any]:
        """For GET /healthz: the store answers and how much is waiting to be sent."""
        from hdops.store import outbox

        try:
            with self.store.read() as session:
                counts = outbox.counts(session)
        except Exception as exc:
            return {"ok": False, "error": exc.__class__.__name__}
        role = None
        if self.scheduler is not None:
            role = "leader" if self.scheduler.running else "standby"
        return {
            "ok": True,
            "outbox_pending": counts.get("pending", 0),
            "outbox_failed": counts.get("failed", 0),
            "platforms": sorted(self.deliverer.ports),
            "scheduler": role,
        }


def bootstrap(
    settings: Settings,
    store: Store,
    ports: Iterable[PortSource] = (),
    clock: Clock | None = None,
    *,
    scheduler: bool = False,
    with_metrics: bool = False,
    claims_unaddressed: bool = True,
    on_commit: Callable[[], None] | None = None,
) -> Runtime:
    """Wire one hdops process.

    * `scheduler`: run the scheduled jobs (`hdops run`; one leader among processes
      sharing a PostgreSQL store). Without it the caller drives time (the demo's
      simulated scheduler, the terminal's sweeps, tests).
    * `with_metrics`: the Prometheus registry served on GET /metrics.
    * `claims_unaddressed`: whether this process sends rows addressed to no
      platform (ops notices before anyone used a platform): a terminal beside a
      Slack or Discord bot leaves them to the bot.
    * `on_commit`: called after each of the core's commits, besides waking the
      deliverer (the demo delivers at its own pace).
    """
    clock = clock or SystemClock()
    deliverer = Deliverer(
        store,
        {},
        settings,
        clock,
        claims_unaddressed=claims_unaddressed,
        on_sent=metrics.NEXT_TASK.sent,
        pacer=pacing_for(store),
    )

    def committed() -> None:
        deliverer.kick()
        if on_commit is not None:
            on_commit()

    core = Core(
        store,
        settings,
        clock,
        on_commit=committed,
        handoff=deliverer,
        on_failure=metrics.interaction_failed,
    )
    runtime = Runtime(store, settings, clock, core, deliverer)
    for source in ports:
        runtime.add_port(source(core) if callable(source) else source)
    if scheduler:
        runtime.scheduler = SchedulerService(
            store,
            settings,
            leadership=leadership_for(settings.database_url),
            clock=clock,
            after_commit=deliverer.kick,
            observer=metrics.SCHEDULER,
        )
    if with_metrics:
        runtime.metrics = RuntimeMetrics(store, deliverer, clock)
    return runtime
