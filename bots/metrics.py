"""A few Prometheus metrics, exposed at GET /metrics in HTTP mode.

Hand-written text exposition (format 0.0.4) for a handful of counters: the
dependency would buy nothing here.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable

_lock = threading.Lock()
_counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
_gauges: dict[str, tuple[Callable[[], float], str]] = {}
HELP = {
    "hdops_events_total": "Platform events and interactions received, by platform and kind.",
    "hdops_event_errors_total": "Events whose handling raised, by platform and kind.",
    "hdops_events_unreadable_total": "Events lacking a field hdops needs, by platform and kind.",
}


def inc(name: str, amount: float = 1.0, **labels: str) -> None:
    with _lock:
        _counters[(name, tuple(sorted(labels.items())))] += amount


def value(name: str, **labels: str) -> float:
    """The current value of one counter (0 if it never moved)."""
    with _lock:
        return _counters.get((name, tuple(sorted(labels.items()))), 0.0)


def gauge(name: str, fn: Callable[[], float], help_text: str, kind: str = "gauge") -> None:
    """A value read when /metrics is scraped; `kind="counter"` for one that only
    grows (e.g. a component's own running count)."""
    _gauges[name] = (fn, kind)
    HELP[name] = help_text


def render() -> str:
    lines: list[str] = []
    with _lock:
        items = sorted(_counters.items())
    seen: set[str] = set()
    for (name, labels), value in items:
        if name not in seen:
            seen.add(name)
            lines.append(f"# HELP {name} {HELP.get(name, name)}")
            lines.append(f"# TYPE {name} counter")
        label_text = ",".join(f'{k}="{v}"' for k, v in labels)
        lines.append(f"{name}{{{label_text}}} {value}" if label_text else f"{name} {value}")
    for name, (fn, kind) in sorted(_gauges.items()):
        try:
            value = fn()
        except Exception:
            continue
        lines += [f"# HELP {name} {HELP[name]}", f"# TYPE {name} {kind}", f"{name} {value}"]
    return "\n".join(lines) + "\n"
