"""Running monitors: one job (a monitor for a merchant) or all of a merchant's, on demand.

A run reads, checks and records in the caller's transaction, so its new findings, their
webhook deliveries and the job's bookkeeping commit together. A monitor that fails is
recorded on its job (``last_status = error``) and does not stop the others: one broken
check must not silence the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.errors import CockpitError
from tools.payments import queries
from tools.payments.models import Merchant
from tools.payments.money import FixedRates
from tools.payments.monitors.base import CheckContext, Finding
from tools.payments.monitors.catalogue import MONITORS, monitor_named
from tools.payments.monitors.models import MonitorFinding, MonitorSchedule
from tools.payments.monitors.schedules import ensure_jobs, jobs_of, next_due, params_of
from tools.payments.monitors.store import finding_view, record
from tools.payments.tx import run_tx

log = logging.getLogger(__name__)


def run_job(
    session: Session, job: MonitorSchedule, *, now: datetime, rates: FixedRates | None = None
) -> list[MonitorFinding]:
    """Run one job now, record what is new, book the run and set when it is due next."""
    monitor = MONITORS[job.monitor]
    merchant = queries.require_merchant(session, job.merchant_id)
    new: list[MonitorFinding] = []
    try:
        with session.begin_nested():
            found = _check(session, merchant, job, now=now, rates=rates)
            new = record(session, found)
        job.last_status, job.last_error = "ok", None
    except Exception as exc:  # one failing check is booked on its job, the rest still run
        log.exception("monitor %s failed for %s", monitor.name, job.merchant_id)
        job.last_status = "error"
        job.last_error = (exc.message if isinstance(exc, CockpitError) else type(exc).__name__)[
            :300
        ]
    job.last_run_at, job.last_findings, job.runs = now, len(new), job.runs + 1
    job.next_run_at, job.updated_at = next_due(job, now), now
    session.flush()
    return new


def _check(
    session: Session,
    merchant: Merchant,
    job: MonitorSchedule,
    *,
    now: datetime,
    rates: FixedRates | None,
) -> list[Finding]:
    monitor = MONITORS[job.monitor]
    ctx = CheckContext(
        session=session,
        merchant=merchant,
        now=now,
        params=params_of(monitor, job.params),
        rates=rates or FixedRates(),
    )
    return monitor.check(ctx)


def run_monitors(
    db: Database,
    tenant_id: str,
    merchant_id: str,
    *,
    now: datetime | None = None,
    monitors: Sequence[str] | None = None,
    rates: FixedRates | None = None,
) -> dict[str, Any]:
    """Run the merchant's monitors now (all, or those named), whatever their schedule.

    Returns the monitors run and the findings that are new (a condition already reported in
    the same period is not new, and is not notified again).
    """
    at = now or utcnow()
    names = [monitor_named(n).name for n in monitors] if monitors else list(MONITORS)

    def fn(session: Session) -> dict[str, Any]:
        queries.require_merchant(session, merchant_id)
        ensure_jobs(session, now=at, merchant_ids=[merchant_id])
        jobs = jobs_of(session, merchant_id)
        new: list[MonitorFinding] = []
        errors = {}
        for name in names:
            new += run_job(session, jobs[name], now=at, rates=rates)
            if jobs[name].last_status == "error":
                errors[name] = jobs[name].last_error
        return {
            "merchant_id": merchant_id,
            "ran_at": at.isoformat(),
            "monitors": names,
            "new_findings": [finding_view(r) for r in new],
            "errors": errors,
        }

    return run_tx(db, tenant_id, fn)


__all__ = ["run_job", "run_monitors"]
