"""Queueing events: one delivery row per matching endpoint, in the caller's transaction.

The caller's own change and the deliveries it owes commit together or not at all (an
outbox): a finding recorded is a finding announced, and a rolled-back change announces
nothing. Nothing here touches the network; the dispatcher sends what is queued.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.db.base import iso, utcnow
from cockpit.db.session import session_tenant
from cockpit.errors import InternalError, ValidationFailed
from cockpit.webhooks.events import is_known, subscribed
from cockpit.webhooks.models import WebhookDelivery, WebhookEndpoint


def new_id(prefix: str) -> str:
    """``<prefix>_`` and 24 hex digits (``we_…`` endpoints, ``msg_…`` deliveries)."""
    return f"{prefix}_{secrets.token_hex(12)}"


def encode_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed: canonical JSON, so a replay sends the same body."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def envelope(event_type: str, data: Any) -> dict[str, Any]:
    """Standard Webhooks' recommended body: ``{type, timestamp, data}`` (plain JSON values)."""
    plain = json.loads(json.dumps(data, default=str))
    return {"type": event_type, "timestamp": iso(utcnow()), "data": plain}


def _check_session(session: Session, tenant_id: str) -> None:
    if session_tenant(session) != tenant_id:
        raise InternalError(
            "webhooks are queued in a session of the event's own tenant", code="wrong_tenant"
        )


def _visible(endpoint: WebhookEndpoint, merchant_id: str | None) -> bool:
    return endpoint.merchant_id is None or endpoint.merchant_id == merchant_id


def _endpoint_for_url(
    session: Session, url: str, merchant_id: str | None
) -> WebhookEndpoint | None:
    """The enabled endpoint registered at ``url`` for this merchant: its own if it has one,
    else a tenant-wide one."""
    rows = session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.url == url, WebhookEndpoint.enabled)
    ).all()
    candidates = sorted(
        (e for e in rows if _visible(e, merchant_id)),
        key=lambda e: (e.merchant_id is None, e.created_at),
    )
    return candidates[0] if candidates else None


def queue_delivery(
    session: Session, endpoint: WebhookEndpoint, *, event_type: str, payload: dict[str, Any]
) -> WebhookDelivery:
    """A pending delivery of ``payload`` to ``endpoint``, due now."""
    now = utcnow()
    delivery = WebhookDelivery(
        id=new_id("msg"),
        tenant_id=endpoint.tenant_id,
        endpoint_id=endpoint.id,
        merchant_id=endpoint.merchant_id,
        event_type=event_type,
        payload=payload,
        status="pending",
        attempts=0,
        retry_step=0,
        next_attempt_at=now,
        attempt_log=[],
        created_at=now,
        updated_at=now,
    )
    session.add(delivery)
    return delivery


def enqueue(
    session: Session,
    tenant_id: str,
    event_type: str,
    data: Any,
    *,
    merchant_id: str | None = None,
    url: str | None = None,
) -> list[str]:
    """Queue ``event_type`` with ``data`` for delivery; returns the delivery (webhook) ids.

    Without ``url``: one delivery per enabled endpoint of the tenant that subscribes to the
    type and is tenant-wide or bound to ``merchant_id``. With ``url``: only to the endpoint
    registered at exactly that URL (whatever it subscribes to), as run-completion webhooks
    name their destination. ``session`` must be a tenant session of ``tenant_id``; the rows
    commit with the caller's transaction.
    """
    _check_session(session, tenant_id)
    if not is_known(event_type):
        raise InternalError(f"undeclared webhook event type {event_type!r}", code="unknown_event")
    if url is not None:
        found = _endpoint_for_url(session, url, merchant_id)
        targets = [found] if found is not None else []
    else:
        rows = session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.enabled)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        ).all()
        targets = [
            e for e in rows if _visible(e, merchant_id) and subscribed(e.event_types, event_type)
        ]
    if not targets:
        return []
    payload = envelope(event_type, data)
    ids = [queue_delivery(session, e, event_type=event_type, payload=payload).id for e in targets]
    session.flush()
    return ids


def check_destination(
    session: Session, tenant_id: str, url: str, *, merchant_id: str | None = None
) -> None:
    """Refuse (422 ``webhook_not_registered`` on ``webhook``) a URL that is not one of the
    tenant's enabled endpoints (for a merchant-bound caller: its own or a tenant-wide one).

    Only registered destinations are ever called: a run's ``webhook`` cannot make the
    platform reach an arbitrary address.
    """
    _check_session(session, tenant_id)
    if _endpoint_for_url(session, url, merchant_id) is None:
        raise ValidationFailed(
            "webhook: register this URL first (POST /v1/webhooks/endpoints); runs call only "
            "registered, enabled endpoints",
            code="webhook_not_registered",
            param="webhook",
        )


__all__ = ["check_destination", "encode_body", "enqueue", "envelope", "new_id", "queue_delivery"]
