"""Registering, changing and removing endpoints, and rotating their signing secrets.

A merchant-bound key registers endpoints for its own merchant only and sees only those; a
key bound to no merchant sees every endpoint of its tenant and may bind a new one to a
merchant. Another tenant's (or, for a merchant-bound key, another merchant's) endpoint is
404. A secret is returned once, when it is made; afterwards only its id and expiry are.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cockpit.db.base import iso, utcnow
from cockpit.db.session import Database
from cockpit.errors import Conflict, NotFound
from cockpit.tenancy.principal import Principal
from cockpit.webhooks.destinations import DestinationPolicy
from cockpit.webhooks.events import WEBHOOK_TEST, check_subscriptions
from cockpit.webhooks.models import WebhookDelivery, WebhookEndpoint
from cockpit.webhooks.queue import envelope, new_id, queue_delivery
from cockpit.webhooks.signing import generate_secret

MAX_ENDPOINTS = 100
"""Per tenant: each endpoint multiplies every event's deliveries."""
DEFAULT_GRACE_S = 24 * 3600
"""How long a rotated-out secret keeps signing, so receivers can switch without a gap."""
MAX_GRACE_S = 7 * 24 * 3600


class EndpointCreate(BaseModel):
    """``POST /v1/webhooks/endpoints``."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=8, max_length=2000)
    """Where events are POSTed: http(s), a public address unless the operator allows others."""
    event_types: list[str] = Field(default=["*"], min_length=1, max_length=50)
    """Names from ``GET /v1/webhooks/event-types``, or ``["*"]`` (the default) for all."""
    description: str = Field(default="", max_length=500)
    enabled: bool = True
    merchant_id: str | None = Field(default=None, min_length=1, max_length=64)
    """Hear only this merchant's events; a merchant-bound key always registers for its own."""


class EndpointPatch(BaseModel):
    """``PATCH /v1/webhooks/endpoints/{id}``: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(default=None, min_length=8, max_length=2000)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=50)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None


class RotateSecret(BaseModel):
    """``POST /v1/webhooks/endpoints/{id}/rotate-secret``."""

    model_config = ConfigDict(extra="forbid")
    grace_period_s: int = Field(default=DEFAULT_GRACE_S, ge=0, le=MAX_GRACE_S)
    """How long the current secret keeps signing beside the new one (0: stop at once)."""


def active_secrets(endpoint: WebhookEndpoint, *, now: datetime) -> list[str]:
    """The secrets that still sign (newest first)."""
    out = []
    for entry in endpoint.secrets:
        expires = entry.get("expires_at")
        if expires is None or datetime.fromisoformat(expires) > now:
            out.append(str(entry["secret"]))
    return out


def endpoint_view(endpoint: WebhookEndpoint, *, now: datetime | None = None) -> dict[str, Any]:
    """The wire shape: everything but the secret values."""
    at = now or utcnow()
    return {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "enabled": endpoint.enabled,
        "merchant_id": endpoint.merchant_id,
        "secrets": [
            {
                "id": s["id"],
                "created_at": s["created_at"],
                "expires_at": s["expires_at"],
                "active": s["expires_at"] is None or datetime.fromisoformat(s["expires_at"]) > at,
            }
            for s in endpoint.secrets
        ],
        "created_at": iso(endpoint.created_at),
        "updated_at": iso(endpoint.updated_at),
    }


def _new_secret(now: datetime) -> tuple[dict[str, Any], str]:
    secret = generate_secret()
    entry = {"id": new_id("whsk"), "secret": secret, "created_at": iso(now), "expires_at": None}
    return entry, secret


class EndpointService:
    """Endpoint CRUD for one caller at a time (the principal scopes every call)."""

    def __init__(
        self,
        db: Database,
        policy: DestinationPolicy,
        *,
        merchant_exists: Callable[[str, str], bool] | None = None,
    ) -> None:
        self._db = db
        self._policy = policy
        self._merchant_exists = merchant_exists
        """``(tenant, merchant) -> bool`` from the composition root (core cannot see payments)."""

    def _find(self, s: Session, who: Principal, endpoint_id: str) -> WebhookEndpoint:
        row = s.get(WebhookEndpoint, endpoint_id)
        if row is None or row.tenant_id != who.tenant_id or not _owned(who, row.merchant_id):
            raise NotFound(f"no webhook endpoint {endpoint_id!r}", param="endpoint_id")
        return row

    def _check_unique(
        self, s: Session, url: str, merchant_id: str | None, *, but: str = ""
    ) -> None:
        q = select(WebhookEndpoint.id).where(WebhookEndpoint.url == url, WebhookEndpoint.id != but)
        q = q.where(
            WebhookEndpoint.merchant_id.is_(None)
            if merchant_id is None
            else WebhookEndpoint.merchant_id == merchant_id
        )
        if s.scalar(q) is not None:
            raise Conflict(
                "url: an endpoint with this URL is already registered",
                code="webhook_url_exists",
                param="url",
            )

    def create(self, who: Principal, body: EndpointCreate) -> dict[str, Any]:
        """Register an endpoint; the answer holds its secret, the only time it is shown."""
        merchant = body.merchant_id
        if who.merchant_id is not None and merchant is None:
            merchant = who.merchant_id
        if merchant is not None and not (
            _owned(who, merchant)
            and (self._merchant_exists is None or self._merchant_exists(who.tenant_id, merchant))
        ):
            # Another merchant is not found for a bound key, as everywhere on the platform.
            raise NotFound(
                f"no merchant {merchant!r}", code="merchant_not_found", param="merchant_id"
            )
        types = check_subscriptions(body.event_types)
        url = self._policy.check(body.url)
        now = utcnow()
        entry, secret = _new_secret(now)
        with self._db.tenant_session(who.tenant_id) as s:
            count = s.scalar(select(func.count()).select_from(WebhookEndpoint)) or 0
            if count >= MAX_ENDPOINTS:
                raise Conflict(
                    f"a tenant may have at most {MAX_ENDPOINTS} webhook endpoints",
                    code="too_many_endpoints",
                )
            self._check_unique(s, url, merchant)
            row = WebhookEndpoint(
                id=new_id("we"),
                merchant_id=merchant,
                url=url,
                description=body.description,
                event_types=types,
                enabled=body.enabled,
                secrets=[entry],
                created_by=who.key_id,
                created_at=now,
                updated_at=now,
            )
            s.add(row)
        return {**endpoint_view(row, now=now), "secret": secret}

    def list_all(self, who: Principal) -> list[dict[str, Any]]:
        with self._db.tenant_session(who.tenant_id) as s:
            q = select(WebhookEndpoint).order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
            if who.merchant_id is not None:
                q = q.where(WebhookEndpoint.merchant_id == who.merchant_id)
            return [endpoint_view(row) for row in s.scalars(q)]

    def get(self, who: Principal, endpoint_id: str) -> dict[str, Any]:
        with self._db.tenant_session(who.tenant_id) as s:
            return endpoint_view(self._find(s, who, endpoint_id))

    def update(self, who: Principal, endpoint_id: str, body: EndpointPatch) -> dict[str, Any]:
        types = check_subscriptions(body.event_types) if body.event_types is not None else None
        url = self._policy.check(body.url) if body.url is not None else None
        with self._db.tenant_session(who.tenant_id) as s:
            row = self._find(s, who, endpoint_id)
            if url is not None and url != row.url:
                self._check_unique(s, url, row.merchant_id, but=row.id)
                row.url = url
            if types is not None:
                row.event_types = types
            if body.description is not None:
                row.description = body.description
            if body.enabled is not None:
                row.enabled = body.enabled
            row.updated_at = utcnow()
            return endpoint_view(row)

    def delete(self, who: Principal, endpoint_id: str) -> dict[str, Any]:
        """Remove the endpoint; its deliveries stay in the log, unsent ones end ``dead``."""
        now = utcnow()
        with self._db.tenant_session(who.tenant_id) as s:
            row = self._find(s, who, endpoint_id)
            view = endpoint_view(row, now=now)
            s.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.endpoint_id == row.id,
                    WebhookDelivery.status.in_(("pending", "failed")),
                )
                .values(
                    status="dead",
                    last_error="endpoint deleted",
                    next_attempt_at=None,
                    claim_token=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            s.delete(row)
        return view

    def rotate(self, who: Principal, endpoint_id: str, body: RotateSecret) -> dict[str, Any]:
        """A new secret signs from now on; the current ones keep signing for the grace period."""
        now = utcnow()
        until = now + timedelta(seconds=body.grace_period_s)
        entry, secret = _new_secret(now)
        with self._db.tenant_session(who.tenant_id) as s:
            row = self._find(s, who, endpoint_id)
            kept: list[dict[str, Any]] = []
            for old in row.secrets:
                expires = old.get("expires_at")
                ends = until if expires is None else min(until, datetime.fromisoformat(expires))
                if ends > now:
                    kept.append({**old, "expires_at": iso(ends)})
            row.secrets = [entry, *kept]
            row.updated_at = now
            return {**endpoint_view(row, now=now), "secret": secret}

    def send_test(self, who: Principal, endpoint_id: str) -> str:
        """Queue a ``webhook.test`` event to this endpoint alone; returns the delivery id."""
        with self._db.tenant_session(who.tenant_id) as s:
            row = self._find(s, who, endpoint_id)
            if not row.enabled:
                raise Conflict(
                    "the endpoint is disabled; enable it first", code="endpoint_disabled"
                )
            data = {"endpoint_id": row.id, "message": "a test event from Cockpit"}
            payload = envelope(WEBHOOK_TEST.name, data)
            return queue_delivery(s, row, event_type=WEBHOOK_TEST.name, payload=payload).id


def _owned(who: Principal, merchant_id: str | None) -> bool:
    return who.merchant_id is None or who.merchant_id == merchant_id


__all__ = [
    "DEFAULT_GRACE_S",
    "EndpointCreate",
    "EndpointPatch",
    "EndpointService",
    "RotateSecret",
    "active_secrets",
    "endpoint_view",
]
