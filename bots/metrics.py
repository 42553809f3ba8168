"""Prometheus metrics of `hdops run`, served at GET /metrics (Slack HTTP mode).

Built on `prometheus_client`. What is measured, and where it comes from:

* **This process's counters and histograms**, moved by the adapters and the
  scheduler: platform events by platform and kind (`hdops_events_total`), their
  errors (`hdops_event_errors_total`, `hdops_events_unreadable_total`), Slack
HTTP requests refused unread (`hdops_http_refused_total`), click →
  next task latency (`hdops_click_to_next_task_seconds`), scheduler lag and job
  failures (`hdops_scheduler_lag_seconds`, `hdops_scheduled_job_errors_total`,
  `hdops_scheduled_jobs_missed_total`), and the outbox deliverer's own counts
  (`hdops_outbox_{sent,deferred,throttled,failed}_total`). Per process, as
  Prometheus expects: sum them across workers.
* **Store-wide gauges**, read from the database at scrape time
  (`hdops.store.gauges`): outbox depth and the age of its oldest message
  (`hdops_outbox_depth`, `hdops_outbox_oldest_pending_age_seconds`,
  `hdops_outbox_failed_messages`), open questions and the age of the oldest
  (`hdops_clarifications_open`, `hdops_clarifications_oldest_open_age_seconds`)
  and every answer stored (`hdops_answers_stored_total`). Every worker reports
  the same values: take `max`, not `sum`. `hdops_store_up` is 0 when the
  database could not be read (the other store figures are then left out).

Every series exists from the first scrape: labelled counters are created for
every platform and kind hdops knows and histograms for every scheduled job kind,
so a dashboard shows 0 rather than "no data" until something happens. The scrape
runs off the event loop (it queries the database).

Click → next task is measured end to end in one process: from the moment the
adapter receives a click or form submission to the moment the task message it
caused (an outbox row with ref `assignment:<id>` to the same person, written
while the click was being handled) is handed to the platform. Clicks that bring
no new task (no work left, a double click) observe nothing.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hdops.clock import Clock, SystemClock
from hdops.services.delivery import Delivered, Deliverer
from hdops.store.db import Store
from hdops.store.gauges import read_gauges
from schedules.scheduler import STATIC_JOBS, job_kind

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # the text format every Prometheus reads

PLATFORMS = ("slack",)  # the chat platforms `hdops run` serves
EVENT_KINDS = ("command", "action", "view_submission", "thread_reply")
SHIFT_JOB_KINDS = ("remind24h", "remind15", "start", "noshow", "end", "close")
OUTBOX_STATS = {
    "sent": "Outbox messages sent by this process.",
    "deferred": "Outbox messages put back for a later attempt (throttled, paced, down).",
    "throttled": "429 answers from a platform (never counted as failures).",
    "failed": "Outbox messages that failed for good (ops were told).",
}

EVENTS = Counter(
    "hdops_events",
    "Platform events and interactions received, by platform and kind.",
    ["platform", "kind"],
    registry=None,
)
EVENT_ERRORS = Counter(
    "hdops_event_errors",
    "Events whose handling raised, by platform and kind.",
    ["platform", "kind"],
    registry=None,
)
EVENTS_UNREADABLE = Counter(
    "hdops_events_unreadable",
    "Events lacking a field hdops needs, by platform and kind.",
    ["platform", "kind"],
    registry=None,
)
HTTP_REFUSED = Counter(
    "hdops_http_refused",
    "Slack HTTP requests refused before bolt saw them (401 unsigned, 400 malformed).",
    ["status"],
    registry=None,
)
CLICK_TO_NEXT_TASK = Histogram(
    "hdops_click_to_next_task_seconds",
    "From receiving a click or form to handing the next task message to the platform.",
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0),
    registry=None,
)
SCHEDULER_LAG = Histogram(
    "hdops_scheduler_lag_seconds",
    "How late scheduled jobs started after they were due, by job kind.",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0),
    registry=None,
)
JOB_ERRORS = Counter(
    "hdops_scheduled_job_errors",
    "Scheduled jobs that raised, by job kind.",
    ["job"],
    registry=None,
)
JOBS_MISSED = Counter(
    "hdops_scheduled_jobs_missed",
    "Scheduled jobs skipped because they were later than their misfire grace.",
    ["job"],
    registry=None,
)
PROCESS_METRICS: tuple[Collector, ...] = (
    EVENTS,
    EVENT_ERRORS,
    EVENTS_UNREADABLE,
    HTTP_REFUSED,
    CLICK_TO_NEXT_TASK,
    SCHEDULER_LAG,
    JOB_ERRORS,
    JOBS_MISSED,
)

for _platform in PLATFORMS:
    for _kind in EVENT_KINDS:
        for _counter in (EVENTS, EVENT_ERRORS, EVENTS_UNREADABLE):
            _counter.labels(_platform, _kind)
for _status in ("400", "401"):
    HTTP_REFUSED.labels(_status)
for _job in [job_kind(j.id) for j in STATIC_JOBS] + [f"shift:{k}" for k in SHIFT_JOB_KINDS]:
    SCHEDULER_LAG.labels(_job)
    JOB_ERRORS.labels(_job)
    JOBS_MISSED.labels(_job)


def event(platform: str, kind: str) -> None:
    EVENTS.labels(platform, kind).inc()


def event_error(platform: str, kind: str) -> None:
    EVENT_ERRORS.labels(platform, kind).inc()


def http_refused(status: int) -> None:
    HTTP_REFUSED.labels(str(status)).inc()


def interaction_failed(platform: str, kind: str) -> None:
    """`Core.on_failure`: an interaction the core could not carry out (it answered
    the person itself), counted under the adapters' kind names."""
    event_error(platform, CORE_KINDS.get(kind, kind))


# The core's entry points ("form") by the event kind adapters count them under.
CORE_KINDS = {"form": "view_submission"}


def event_unreadable(platform: str, kind: str) -> None:
    EVENTS_UNREADABLE.labels(platform, kind).inc()


# --------------------------------------------------------------------------- click → task


class NextTaskLatency:
    """Pairs a click with the task message it caused (see the module docstring)."""

    KEEP = timedelta(minutes=5)  # a click whose task never comes is forgotten after this

    def __init__(self, histogram: Histogram = CLICK_TO_NEXT_TASK) -> None:
        self.histogram = histogram
        self._lock = threading.Lock()
        # Per (platform, user): [received, handled] of each click; handled is None
        # while the core is still on it (its task may be sent before it returns).
        self._clicks: dict[tuple[str, str], list[list[datetime | None]]] = {}

    def clicked(self, platform: str, user: str, received: datetime, handled: datetime) -> None:
        """`user` clicked at `received`; the core was done with it at `handled`."""
        with self._lock:
            self._add(platform, user, [received, handled])

    @contextlib.contextmanager
    def handling(self, platform: str, user: str, received: datetime) -> Iterator[None]:
        """A click the core is handling during the block: its task message may go out
        before the core call even returns (the outbox sends on commit), so the click
        is known from the start and closed when the block ends."""
        entry: list[datetime | None] = [received, None]
        with self._lock:
            self._add(platform, user, entry)
        try:
            yield
        finally:
            entry[1] = now()

    def _add(self, platform: str, user: str, entry: list[datetime | None]) -> None:
        clicks = self._clicks.setdefault((platform, user), [])
        clicks.append(entry)
        received = entry[0]
        assert received is not None
        horizon = received - self.KEEP
        clicks[:] = [c for c in clicks if (c[1] or received) >= horizon]

    def sent(self, delivered: Delivered) -> None:
        """`Deliverer.on_sent`: a task DM written while a click of its person was
        being handled ends that click's wait."""
        if delivered.op != "dm" or not (delivered.ref or "").startswith("assignment:"):
            return
        with self._lock:
            clicks = self._clicks.get((delivered.platform, delivered.target))
            if not clicks:
                return
            for i, (received, handled) in enumerate(clicks):
                assert received is not None
                if received <= delivered.created_at and (
                    handled is None or delivered.created_at <= handled
                ):
                    del clicks[i]
                    break
            else:
                return
            if not clicks:
                del self._clicks[(delivered.platform, delivered.target)]
        self.histogram.observe(max(0.0, (delivered.sent_at - received).total_seconds()))


NEXT_TASK = NextTaskLatency()


def now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- scheduler


class SchedulerMetrics:
    """`schedules.scheduler.JobObserver` onto the process's histograms and counters."""

    def submitted(self, job: str, lag_seconds: float) -> None:
        SCHEDULER_LAG.labels(job).observe(lag_seconds)

    def failed(self, job: str) -> None:
        JOB_ERRORS.labels(job).inc()

    def missed(self, job: str) -> None:
        JOBS_MISSED.labels(job).inc()


SCHEDULER = SchedulerMetrics()


# --------------------------------------------------------------------------- per runtime


class _DeliveryCollector:
    """The deliverer's own counts, as counters."""

    def __init__(self, deliverer: Deliverer) -> None:
        self.deliverer = deliverer

    def collect(self) -> Iterator[Metric]:
        for what, help_text in OUTBOX_STATS.items():
            yield CounterMetricFamily(
                f"hdops_outbox_{what}", help_text, value=float(self.deliverer.stats[what])
            )


class _StoreCollector:
    """Store-wide gauges, read at scrape time."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        try:
            with self.store.read() as session:
                g = read_gauges(session)
        except Exception as exc:
            log.warning("metrics: could not read the store: %s", exc)
            yield GaugeMetricFamily("hdops_store_up", "1 if the store could be read.", 0.0)
            return
        now = self.clock.now()
        yield GaugeMetricFamily("hdops_store_up", "1 if the store could be read.", 1.0)
        yield GaugeMetricFamily(
            "hdops_outbox_depth", "Messages waiting to be sent (store-wide).", g.outbox_pending
        )
        yield GaugeMetricFamily(
            "hdops_outbox_oldest_pending_age_seconds",
            "How long the longest-waiting unsent message has waited (0: none waiting).",
            _age(now, g.outbox_oldest_pending),
        )
        yield GaugeMetricFamily(
            "hdops_outbox_failed_messages",
            "Messages that failed for good and were not retried (store-wide).",
            g.outbox_failed,
        )
        yield GaugeMetricFamily(
            "hdops_clarifications_open", "Clarification questions open.", g.clarifications_open
        )
        yield GaugeMetricFamily(
            "hdops_clarifications_oldest_open_age_seconds",
            "How long the oldest open question has been open (0: none open).",
            _age(now, g.clarifications_oldest_open),
        )
        yield CounterMetricFamily(
            "hdops_answers_stored",
            "Answers stored (store-wide, rejected ones included).",
            g.answers,
        )


def _age(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


class RuntimeMetrics:
    """What one `hdops run` exposes: the process metrics, its deliverer's counts,
    the store's gauges and the process collector (CPU, memory, file handles)."""

    def __init__(self, store: Store, deliverer: Deliverer, clock: Clock | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        collectors: tuple[Collector, ...] = (
            *PROCESS_METRICS,
            _DeliveryCollector(deliverer),
            _StoreCollector(store, clock or SystemClock()),
        )
        for collector in collectors:
            self.registry.register(collector)
        ProcessCollector(registry=self.registry)

    def exposition(self) -> bytes:
        """The text exposition (it reads the store: call it off the event loop)."""
        return generate_latest(self.registry)


def value(name: str, **labels: str) -> float:
    """The current value of one of this process's series (0 if it never moved)."""
    registry = CollectorRegistry(auto_describe=True)
    for metric in PROCESS_METRICS:
        registry.register(metric)
    found = registry.get_sample_value(name, labels)
    return found if found is not None else 0.0
