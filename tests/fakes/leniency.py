"""Where a test may ask a fake platform to be kinder than the real one: by a
name the fake knows, with a reason, so a reader sees what and why."""

from __future__ import annotations

from collections.abc import Mapping


def check_leniency(lenient: Mapping[str, str], known: Mapping[str, str]) -> dict[str, str]:
    """`lenient` validated against the fake's `known` leniencies: known names
    only, each with a non-empty reason."""
    unknown = sorted(set(lenient) - set(known))
    if unknown:
        raise ValueError(f"unknown leniency {unknown}; the fake knows {sorted(known)}")
    for name, reason in lenient.items():
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"leniency {name!r} needs its reason, e.g. {{{name!r}: 'why'}}")
    return dict(lenient)
