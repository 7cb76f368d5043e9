"""Per-merchant monitor jobs: defaults for every merchant, when each is due, its parameters.

Each (merchant, monitor) pair is one row of ``pay_monitor_schedules``, created with the
monitor's default interval the first time the scheduler (or a settings change) meets the
merchant, due at once. A row stores only the parameters the merchant changed; the monitor's
defaults fill the rest, so a better default reaches every merchant that kept it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.crons.schedule import next_fire, parse_schedule
from cockpit.db.base import iso
from cockpit.errors import ValidationFailed
from tools.payments import queries
from tools.payments.models import Merchant
from tools.payments.monitors.base import Monitor, Params
from tools.payments.monitors.catalogue import MONITORS, monitor_named
from tools.payments.monitors.models import MonitorSchedule

MIN_INTERVAL_S = 60
MAX_INTERVAL_S = 30 * 86400


class MonitorChange(BaseModel):
    """A change to one monitor's job (only the fields given change)."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = None
    interval_seconds: int | None = Field(None, ge=MIN_INTERVAL_S, le=MAX_INTERVAL_S)
    cron: str | None = Field(
        None, max_length=100, description="5-field UTC cron expression; '' goes back to interval"
    )
    params: dict[str, Any] | None = Field(
        None, description="Parameters to change, e.g. {'limit': 80000} for fx_exposure_limit"
    )


class SettingsChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    merchant_id: str | None = Field(None, description="Defaults to the key's own merchant")
    monitors: dict[str, MonitorChange] = Field(description="Monitor name → change")


def params_of(monitor: Monitor, overrides: dict[str, Any], *, param: str = "params") -> Params:
    """The monitor's parameters: its defaults with ``overrides``; 422 naming a bad field."""
    try:
        return monitor.params.model_validate(overrides)
    except PydanticError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ValidationFailed(
            f"{monitor.name}: {where}: {err['msg']}",
            code="invalid_monitor_params",
            param=f"{param}.{where}" if where else param,
        ) from None


def next_due(job: MonitorSchedule, after: datetime) -> datetime:
    """When the job is due next after ``after``: its cron expression, else its interval."""
    if job.cron:
        fire = next_fire(parse_schedule(job.cron), after)
        if fire is not None:
            return fire
    return after + timedelta(seconds=job.interval_seconds or MONITORS[job.monitor].interval_seconds)


def ensure_jobs(
    session: Session, *, now: datetime, merchant_ids: Iterable[str] | None = None
) -> int:
    """Create the missing default jobs of ``merchant_ids`` (None: every merchant); due now."""
    wanted = (
        list(merchant_ids)
        if merchant_ids is not None
        else list(session.scalars(select(Merchant.id).order_by(Merchant.id)))
    )
    have = set(session.execute(select(MonitorSchedule.merchant_id, MonitorSchedule.monitor)))
    added = 0
    for merchant_id in wanted:
        for monitor in MONITORS.values():
            if (merchant_id, monitor.name) in have:
                continue
            session.add(
                MonitorSchedule(
                    merchant_id=merchant_id,
                    monitor=monitor.name,
                    enabled=True,
                    interval_seconds=monitor.interval_seconds,
                    cron=None,
                    params={},
                    next_run_at=now,
                    last_findings=0,
                    runs=0,
                    updated_at=now,
                )
            )
            added += 1
    session.flush()  # a concurrent twin fails on the unique job key; the caller retries
    return added


def jobs_of(session: Session, merchant_id: str) -> dict[str, MonitorSchedule]:
    rows = session.scalars(
        select(MonitorSchedule).where(MonitorSchedule.merchant_id == merchant_id)
    )
    return {r.monitor: r for r in rows}


def _job_view(monitor: Monitor, job: MonitorSchedule | None) -> dict[str, Any]:
    overrides = job.params if job is not None else {}
    return {
        "monitor": monitor.name,
        "title": monitor.title,
        "enabled": job.enabled if job is not None else True,
        "interval_seconds": job.interval_seconds if job is not None else monitor.interval_seconds,
        "cron": job.cron if job is not None else None,
        "params": params_of(monitor, overrides).model_dump(),
        "changed_params": sorted(overrides),
        "next_run_at": iso(job.next_run_at) if job is not None else None,
        "last_run_at": iso(job.last_run_at) if job is not None and job.last_run_at else None,
        "last_status": job.last_status if job is not None else None,
        "last_error": job.last_error if job is not None else None,
        "last_findings": job.last_findings if job is not None else 0,
        "runs": job.runs if job is not None else 0,
    }


def settings_view(session: Session, merchant_id: str) -> dict[str, Any]:
    """Every monitor's schedule and parameters for the merchant (defaults where unset)."""
    queries.require_merchant(session, merchant_id)
    jobs = jobs_of(session, merchant_id)
    return {
        "merchant_id": merchant_id,
        "monitors": [_job_view(m, jobs.get(m.name)) for m in MONITORS.values()],
    }


def update_settings(
    session: Session, merchant_id: str, change: SettingsChange, *, now: datetime
) -> dict[str, Any]:
    """Apply ``change`` to the merchant's jobs in one transaction (all of it or nothing)."""
    queries.require_merchant(session, merchant_id)
    if not change.monitors:
        raise ValidationFailed("name at least one monitor", code="no_changes", param="monitors")
    ensure_jobs(session, now=now, merchant_ids=[merchant_id])
    jobs = jobs_of(session, merchant_id)
    for name, patch in change.monitors.items():
        monitor = monitor_named(name, param=f"monitors.{name}")
        job = jobs[name]
        if patch.params is not None:
            # A null goes back to the default: only real overrides are stored.
            merged = {**job.params, **patch.params}
            kept = {k: v for k, v in merged.items() if v is not None}
            params_of(monitor, kept, param=f"monitors.{name}.params")
            job.params = kept
        if patch.enabled is not None:
            job.enabled = patch.enabled
        retimed = False
        if patch.cron is not None:
            if patch.cron:
                try:
                    parse_schedule(patch.cron)
                except ValidationFailed as exc:
                    exc.param = f"monitors.{name}.cron"
                    raise
            job.cron, retimed = patch.cron or None, True
        if patch.interval_seconds is not None:
            job.interval_seconds, retimed = patch.interval_seconds, True
        if retimed:
            job.next_run_at = next_due(job, now)
        job.updated_at = now
    session.flush()
    return settings_view(session, merchant_id)


__all__ = [
    "MonitorChange",
    "SettingsChange",
    "ensure_jobs",
    "jobs_of",
    "next_due",
    "params_of",
    "settings_view",
    "update_settings",
]
