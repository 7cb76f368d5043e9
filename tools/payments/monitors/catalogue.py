"""The built-in monitors, by name: the one list the scheduler, the API and the copilot share."""

from __future__ import annotations

from cockpit.errors import ValidationFailed
from tools.payments.monitors import (
    dispute_deadline,
    fx_exposure,
    kyb_documents,
    scheme_programs,
    success_rate,
)
from tools.payments.monitors.base import Monitor

MONITORS: dict[str, Monitor] = {
    m.name: m
    for m in (
        success_rate.MONITOR,
        scheme_programs.MONITOR,
        dispute_deadline.MONITOR,
        kyb_documents.MONITOR,
        fx_exposure.MONITOR,
    )
}


def monitor_named(name: str, *, param: str = "monitor") -> Monitor:
    """The monitor called ``name``; 422 ``unknown_monitor`` naming the known ones otherwise."""
    found = MONITORS.get(name)
    if found is None:
        raise ValidationFailed(
            f"unknown monitor {name!r}; known: {', '.join(MONITORS)}",
            code="unknown_monitor",
            param=param,
        )
    return found


__all__ = ["MONITORS", "monitor_named"]
