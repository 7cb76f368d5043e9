"""Findings: stored once per condition and period, announced by webhook in the same transaction.

:func:`record` is the only writer. A finding whose ``dedup_key`` is already stored is a repeat
and changes nothing; a new one is inserted together with its ``monitor.finding`` deliveries
(:func:`cockpit.webhooks.enqueue`), so a finding is never stored unannounced nor announced
unstored. Reads take an optional merchant scope: a merchant-bound caller never sees another
merchant's findings, and their ids read as not found.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit import webhooks
from cockpit.db.base import iso
from cockpit.db.session import session_tenant
from cockpit.errors import Conflict, NotFound, ValidationFailed
from tools.payments.monitors.base import SEVERITIES, Finding
from tools.payments.monitors.catalogue import MONITORS, monitor_named
from tools.payments.monitors.models import MonitorFinding
from tools.payments.requests import new_id

STATUSES = ("open", "acknowledged")
EVENT_TYPE = webhooks.MONITOR_FINDING.name


def finding_view(row: MonitorFinding) -> dict[str, Any]:
    """The wire shape of a finding (the API, the copilot and the webhook's ``data``)."""
    return {
        "id": row.id,
        "merchant_id": row.merchant_id,
        "monitor": row.monitor,
        "severity": row.severity,
        "title": row.title,
        "summary": row.summary,
        "figures": row.figures,
        "dedup_key": row.dedup_key,
        "status": row.status,
        "detected_at": iso(row.detected_at),
        "acknowledged_at": iso(row.acknowledged_at) if row.acknowledged_at else None,
    }


def record(session: Session, findings: Iterable[Finding]) -> list[MonitorFinding]:
    """Store the findings not seen before and queue their webhooks; returns the new rows."""
    tenant = session_tenant(session)
    new: list[MonitorFinding] = []
    for f in findings:
        known = session.scalar(
            select(MonitorFinding.id).where(MonitorFinding.dedup_key == f.dedup_key)
        )
        if known is not None:
            continue
        row = MonitorFinding(
            id=new_id("mf"),
            merchant_id=f.merchant_id,
            monitor=f.monitor,
            severity=f.severity,
            title=f.title,
            summary=f.summary,
            figures=f.figures,
            dedup_key=f.dedup_key,
            status="open",
            detected_at=f.detected_at,
            deliveries=[],
        )
        session.add(row)
        session.flush()  # a concurrent twin fails here and the caller's transaction retries
        row.deliveries = webhooks.enqueue(
            session, tenant, EVENT_TYPE, finding_view(row), merchant_id=f.merchant_id
        )
        new.append(row)
    session.flush()
    return new


def _choice(value: str | None, allowed: Iterable[str], param: str) -> None:
    options = tuple(allowed)
    if value is not None and value not in options:
        raise ValidationFailed(
            f"{param} must be one of {', '.join(options)}", code=f"invalid_{param}", param=param
        )


def list_findings(
    session: Session,
    *,
    merchant_id: str | None = None,
    monitor: str | None = None,
    severity: str | None = None,
    status: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Newest first, filtered; at most ``limit`` (1–200)."""
    if monitor is not None:
        monitor_named(monitor)
    _choice(severity, SEVERITIES, "severity")
    _choice(status, STATUSES, "status")
    if not 1 <= limit <= 200:
        raise ValidationFailed("limit must be 1–200", code="invalid_limit", param="limit")
    stmt = select(MonitorFinding).order_by(
        MonitorFinding.detected_at.desc(), MonitorFinding.id.desc()
    )
    for column, value in (
        (MonitorFinding.merchant_id, merchant_id),
        (MonitorFinding.monitor, monitor),
        (MonitorFinding.severity, severity),
        (MonitorFinding.status, status),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return [finding_view(r) for r in session.scalars(stmt.limit(limit))]


def scoped_finding(session: Session, finding_id: str, merchant_id: str | None) -> MonitorFinding:
    """The finding if the caller may see it; 404 ``finding_not_found`` otherwise."""
    stmt = select(MonitorFinding).where(MonitorFinding.id == finding_id)
    if merchant_id is not None:
        stmt = stmt.where(MonitorFinding.merchant_id == merchant_id)
    row = session.scalar(stmt)
    if row is None:
        raise NotFound(
            f"no monitor finding {finding_id!r}", code="finding_not_found", param="finding_id"
        )
    return row


def acknowledge(
    session: Session, finding_id: str, *, merchant_id: str | None, by: str, at: datetime
) -> dict[str, Any]:
    """Mark a finding acknowledged (a repeat is 409 ``finding_already_acknowledged``)."""
    row = scoped_finding(session, finding_id, merchant_id)
    if row.status == "acknowledged":
        raise Conflict(
            f"{finding_id} was already acknowledged",
            code="finding_already_acknowledged",
            param="finding_id",
        )
    row.status, row.acknowledged_at, row.acknowledged_by = "acknowledged", at, by
    session.flush()
    return finding_view(row)


def explain(session: Session, finding_id: str, *, merchant_id: str | None) -> dict[str, Any]:
    """The finding with why it matters and what to do (its monitor's advice)."""
    row = scoped_finding(session, finding_id, merchant_id)
    monitor = MONITORS[row.monitor]
    view = finding_view(row)
    view["monitor_title"] = monitor.title
    view["why"] = monitor.why
    view["actions"] = list(monitor.actions)
    return view


__all__ = [
    "EVENT_TYPE",
    "STATUSES",
    "acknowledge",
    "explain",
    "finding_view",
    "list_findings",
    "record",
    "scoped_finding",
]
