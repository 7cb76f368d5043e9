"""What every monitor is made of: its parameters, the context it checks in, and its findings.

A monitor is a pure check over one merchant's records at an instant ``now``: it reads through
the payments domain services (analytics, disputes, KYB, exposure) in the session it is given,
returns zero or more :class:`Finding` and writes nothing. Storing, deduplicating and notifying
are :mod:`tools.payments.monitors.store`'s job, scheduling is the scheduler's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from tools.payments.models import Merchant
from tools.payments.money import FixedRates

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")


class Params(BaseModel):
    """Base of a monitor's parameters: what a merchant may tune through the settings API."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class Finding:
    """One condition a monitor detected for a merchant."""

    merchant_id: str
    monitor: str
    severity: Severity
    title: str
    summary: str
    """A plain sentence with the figures, ready for a notification."""
    figures: dict[str, Any]
    """The numbers behind the summary (JSON-safe), for the copilot and for receivers."""
    dedup_key: str
    """Same condition, same period → same key → one stored finding."""
    detected_at: datetime


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a check reads: the merchant, the instant, its parameters and the FX table."""

    session: Session
    merchant: Merchant
    now: datetime
    params: Any
    """The monitor's own :class:`Params` subclass, defaults merged with the merchant's changes."""
    rates: FixedRates = field(default_factory=FixedRates)

    def finding(
        self,
        monitor: str,
        *,
        severity: Severity,
        title: str,
        summary: str,
        figures: dict[str, Any],
        period: str,
    ) -> Finding:
        """A finding of ``monitor`` for this merchant now; ``period`` names the condition and
        its period within the monitor (the rest of the dedup key)."""
        return Finding(
            merchant_id=self.merchant.id,
            monitor=monitor,
            severity=severity,
            title=title,
            summary=summary,
            figures=figures,
            dedup_key=f"{monitor}:{self.merchant.id}:{period}",
            detected_at=self.now,
        )


Check = Callable[[CheckContext], list[Finding]]


@dataclass(frozen=True, slots=True)
class Monitor:
    """A monitor as the scheduler, the API and the copilot see it."""

    name: str
    title: str
    params: type[Params]
    check: Check
    why: str
    """Why the condition matters (the copilot's "why did you warn me")."""
    actions: tuple[str, ...]
    """What the merchant can do about it, most effective first."""
    interval_seconds: int = 3600
    """Default schedule: how often the job runs for each merchant."""


__all__ = ["SEVERITIES", "CheckContext", "Finding", "Monitor", "Params", "Severity"]
