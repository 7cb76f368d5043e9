"""Crons as the API sees them: create, change, delete, search and count, per tenant.

Who may set a cron is who may start that run now: the assistant must admit the key's role
and a thread cron's thread must be visible to the key. The cron then runs as that key (see
:mod:`cockpit.crons.scheduler`). A merchant-bound key sees only its merchant's crons;
another tenant's or merchant's cron is 404. Every change is one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select

from cockpit.crons.models import CronRecord
from cockpit.crons.schedule import next_fire, parse_schedule, parse_timezone
from cockpit.db.base import iso, utcnow
from cockpit.db.session import Database
from cockpit.errors import NotFound, ValidationFailed
from cockpit.runtime.runs import check_input, check_stream_modes
from cockpit.runtime.runspec import MULTITASK_STRATEGIES
from cockpit.runtime.service import Runtime
from cockpit.tenancy.principal import Principal
from cockpit.webhooks import check_destination

ON_RUN_COMPLETED = ("delete", "keep")
SORT_FIELDS = (
    "cron_id",
    "assistant_id",
    "thread_id",
    "created_at",
    "updated_at",
    "next_run_date",
    "end_time",
)
SELECT_FIELDS = (
    "cron_id",
    "assistant_id",
    "thread_id",
    "end_time",
    "schedule",
    "timezone",
    "created_at",
    "updated_at",
    "user_id",
    "payload",
    "next_run_date",
    "metadata",
    "now",
    "on_run_completed",
    "enabled",
)
_UNSET: Any = object()


@dataclass
class CronRequest:
    """A cron body as the client sent it (checked by :class:`CronService`); a field left
    ``_UNSET`` was not sent, so an update leaves it alone."""

    assistant_id: str = _UNSET
    schedule: str = _UNSET
    input: Any = _UNSET
    metadata: dict[str, Any] | None = _UNSET
    config: dict[str, Any] | None = _UNSET
    context: dict[str, Any] | None = _UNSET
    multitask_strategy: str | None = _UNSET
    stream_mode: Any = _UNSET
    on_run_completed: str | None = _UNSET
    end_time: datetime | None = _UNSET
    enabled: bool | None = _UNSET
    timezone: str | None = _UNSET
    webhook: str | None = _UNSET

    def given(self, name: str) -> bool:
        return getattr(self, name) is not _UNSET


@dataclass(frozen=True)
class CronFilter:
    """What search and count match: each given field exactly, metadata key by key."""

    assistant_id: str | None = None
    thread_id: str | None = None
    enabled: bool | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _when(value: datetime | None) -> str | None:
    return None if value is None else iso(value)


def cron_json(rec: CronRecord, *, now: datetime | None = None) -> dict[str, Any]:
    """LangGraph's ``Cron`` shape, plus the last fire (``last_status``, ``last_run_id``...)."""
    return {
        "cron_id": rec.cron_id,
        "assistant_id": rec.assistant_id,
        "thread_id": rec.thread_id,
        "on_run_completed": rec.on_run_completed,
        "end_time": _when(rec.end_time),
        "schedule": rec.schedule,
        "timezone": rec.timezone,
        "created_at": iso(rec.created_at),
        "updated_at": iso(rec.updated_at),
        "payload": {"assistant_id": rec.assistant_id, "schedule": rec.schedule, **rec.payload},
        "user_id": rec.owner_key_id,
        "next_run_date": _when(rec.next_run_date) if rec.enabled else None,
        "metadata": rec.meta,
        "enabled": rec.enabled,
        "now": iso(now or utcnow()),
        "fires": rec.fires,
        "last_fired_at": _when(rec.last_fired_at),
        "last_status": rec.last_status,
        "last_run_id": rec.last_run_id,
        "last_error": rec.last_error,
    }


def upcoming(rec: CronRecord, after: datetime) -> datetime | None:
    """The cron's next fire after ``after``, or None when its end time comes first."""
    when = next_fire(parse_schedule(rec.schedule), after, tz=parse_timezone(rec.timezone))
    end = _aware(rec.end_time)
    if when is None or (end is not None and when > end):
        return None
    return when


class CronService:
    """CRUD for crons, scoped to the caller's tenant and merchant."""

    def __init__(self, db: Database, runtime: Runtime) -> None:
        self._db = db
        self._runtime = runtime

    # ---- writes --------------------------------------------------------------------------
    def create(
        self, principal: Principal, request: CronRequest, *, thread_id: str | None = None
    ) -> CronRecord:
        """A new cron owned by ``principal``; ``thread_id`` None: a new thread per fire."""
        for name in ("assistant_id", "schedule", "input"):
            if not request.given(name) or getattr(request, name) is None:
                raise ValidationFailed(f"{name} is required", code="missing_field", param=name)
        now = utcnow()
        rec = CronRecord(
            cron_id=str(uuid.uuid4()),
            thread_id=thread_id,
            payload={},
            meta={},
            enabled=True,
            fires=0,
            created_at=now,
            updated_at=now,
        )
        self._apply(principal, rec, request, now)
        with self._db.tenant_session(principal.tenant_id) as s:
            s.add(rec)
        return rec

    def update(self, principal: Principal, cron_id: str, request: CronRequest) -> CronRecord:
        """Change what was given; the changing key becomes the owner the cron runs as."""
        now = utcnow()
        with self._db.tenant_session(principal.tenant_id) as s:
            rec = self._find(s, principal, cron_id)
            self._apply(principal, rec, request, now)
            rec.updated_at = now
        return rec

    def delete(self, principal: Principal, cron_id: str) -> None:
        with self._db.tenant_session(principal.tenant_id) as s:
            s.delete(self._find(s, principal, cron_id))

    def _apply(
        self, principal: Principal, rec: CronRecord, request: CronRequest, now: datetime
    ) -> None:
        """Validate and write the given fields, re-check the owner's rights, reschedule."""
        if request.given("assistant_id"):
            rec.assistant_id = request.assistant_id
        # The key setting the cron must be able to start this run itself, now.
        self._runtime.graph_for(principal.tenant_id, rec.assistant_id, principal)
        stateless = rec.thread_id is None
        if not stateless:
            self._runtime.threads.get_record(principal.tenant_id, str(rec.thread_id), principal)
        if stateless and rec.on_run_completed is None:
            rec.on_run_completed = "delete"
        if not stateless and request.given("on_run_completed") and request.on_run_completed:
            raise ValidationFailed(
                "on_run_completed applies to crons without a thread only",
                code="invalid_value",
                param="on_run_completed",
            )
        if request.given("schedule"):
            rec.schedule = parse_schedule(request.schedule).expression
        if request.given("timezone"):
            parse_timezone(request.timezone)
            rec.timezone = request.timezone
        payload = dict(rec.payload)
        if request.given("input"):
            payload["input"] = check_input(request.input)
        for name in ("config", "context"):
            if request.given(name):
                payload[name] = getattr(request, name) or {}
        if request.given("stream_mode"):
            payload["stream_mode"] = check_stream_modes(request.stream_mode)
        if request.given("webhook"):
            if request.webhook:
                # Only the tenant's registered endpoints, as for a run's webhook.
                with self._db.tenant_session(principal.tenant_id) as s:
                    check_destination(
                        s, principal.tenant_id, request.webhook, merchant_id=principal.merchant_id
                    )
            payload["webhook"] = request.webhook or None
        if request.given("multitask_strategy"):
            payload["multitask_strategy"] = _choice(
                request.multitask_strategy or "reject", MULTITASK_STRATEGIES, "multitask_strategy"
            )
        rec.payload = payload
        if request.given("metadata"):
            rec.meta = dict(request.metadata or {})
        if request.given("on_run_completed") and request.on_run_completed is not None:
            rec.on_run_completed = _choice(
                request.on_run_completed, ON_RUN_COMPLETED, "on_run_completed"
            )
        if request.given("end_time"):
            rec.end_time = _aware(request.end_time)
        if request.given("enabled") and request.enabled is not None:
            rec.enabled = request.enabled
        rec.owner_key_id = principal.key_id
        rec.owner_role = principal.role.value
        rec.merchant_id = principal.merchant_id
        rec.next_run_date = upcoming(rec, now)

    # ---- reads ---------------------------------------------------------------------------
    def get(self, principal: Principal, cron_id: str) -> CronRecord:
        with self._db.tenant_session(principal.tenant_id) as s:
            return self._find(s, principal, cron_id)

    def search(
        self,
        principal: Principal,
        where: CronFilter,
        *,
        limit: int,
        offset: int,
        sort_by: str = "created_at",
        sort_order: str = "desc",
    ) -> list[CronRecord]:
        sort_by = _choice(sort_by, SORT_FIELDS, "sort_by")
        sort_order = _choice(sort_order, ("asc", "desc"), "sort_order")
        column = getattr(CronRecord, sort_by)
        order = column.asc() if sort_order == "asc" else column.desc()
        rows = self._matching(principal, where, order)
        return rows[offset : offset + limit]

    def count(self, principal: Principal, where: CronFilter) -> int:
        return len(self._matching(principal, where, CronRecord.created_at.desc()))

    def _matching(self, principal: Principal, where: CronFilter, order: Any) -> list[CronRecord]:
        q = _visible(select(CronRecord), principal)
        if where.assistant_id is not None:
            q = q.where(CronRecord.assistant_id == where.assistant_id)
        if where.thread_id is not None:
            q = q.where(CronRecord.thread_id == where.thread_id)
        if where.enabled is not None:
            q = q.where(CronRecord.enabled == where.enabled)
        with self._db.tenant_session(principal.tenant_id) as s:
            rows = list(s.scalars(q.order_by(order, CronRecord.cron_id)))
        # Metadata matches key by key in Python: JSON equality differs between backends.
        return [r for r in rows if all(r.meta.get(k) == v for k, v in where.metadata.items())]

    def _find(self, session: Any, principal: Principal, cron_id: str) -> CronRecord:
        rec = session.scalars(
            _visible(select(CronRecord).where(CronRecord.cron_id == cron_id), principal)
        ).one_or_none()
        if rec is None:
            raise NotFound(f"no cron {cron_id}", code="cron_not_found", param="cron_id")
        found: CronRecord = rec
        return found


def _visible(q: Select[Any], viewer: Principal) -> Select[Any]:
    """A merchant-bound key sees only its merchant's crons (the rest do not exist for it)."""
    if viewer.merchant_id is not None:
        return q.where(CronRecord.merchant_id == viewer.merchant_id)
    return q


def _choice(value: str, allowed: tuple[str, ...], param: str) -> str:
    if value not in allowed:
        raise ValidationFailed(
            f"{param} must be one of {list(allowed)}", code="invalid_value", param=param
        )
    return value


__all__ = [
    "MULTITASK_STRATEGIES",
    "SELECT_FIELDS",
    "SORT_FIELDS",
    "CronFilter",
    "CronRequest",
    "CronService",
    "cron_json",
    "upcoming",
]
