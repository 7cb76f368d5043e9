"""The delivery log: listing, reading one with its attempts, and replaying.

A replay queues the same delivery again: same ``webhook-id`` and body (so a receiver that
deduplicates sees it as the same event), a fresh timestamp and signatures, and the backoff
schedule from the start. Merchant-bound keys see only their merchant's deliveries.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.db.base import iso, utcnow
from cockpit.db.session import Database
from cockpit.errors import Conflict, NotFound
from cockpit.tenancy.principal import Principal
from cockpit.webhooks.models import WebhookDelivery, WebhookEndpoint

Status = Literal["pending", "failed", "succeeded", "dead"]
STATUSES: tuple[Status, ...] = ("pending", "failed", "succeeded", "dead")
MAX_PAGE = 200


def delivery_view(row: WebhookDelivery, *, full: bool = False) -> dict[str, Any]:
    """The wire shape; ``full`` adds the payload and the attempt log."""
    view: dict[str, Any] = {
        "id": row.id,
        "object": "webhook_delivery",
        "endpoint_id": row.endpoint_id,
        "merchant_id": row.merchant_id,
        "event_type": row.event_type,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": iso(row.next_attempt_at) if row.next_attempt_at else None,
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }
    if full:
        view["payload"] = row.payload
        view["attempt_log"] = list(row.attempt_log)
    return view


class DeliveryLog:
    """Reads and replays deliveries for one caller at a time."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _find(self, s: Session, who: Principal, delivery_id: str) -> WebhookDelivery:
        row = s.get(WebhookDelivery, delivery_id)
        if (
            row is None
            or row.tenant_id != who.tenant_id
            or (who.merchant_id is not None and row.merchant_id != who.merchant_id)
        ):
            raise NotFound(f"no webhook delivery {delivery_id!r}", param="delivery_id")
        return row

    def list_all(
        self,
        who: Principal,
        *,
        endpoint_id: str | None = None,
        status: Status | None = None,
        event_type: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Newest first, filtered."""
        q = select(WebhookDelivery).order_by(
            WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()
        )
        if who.merchant_id is not None:
            q = q.where(WebhookDelivery.merchant_id == who.merchant_id)
        if endpoint_id is not None:
            q = q.where(WebhookDelivery.endpoint_id == endpoint_id)
        if status is not None:
            q = q.where(WebhookDelivery.status == status)
        if event_type is not None:
            q = q.where(WebhookDelivery.event_type == event_type)
        q = q.limit(min(max(limit, 1), MAX_PAGE)).offset(max(offset, 0))
        with self._db.tenant_session(who.tenant_id) as s:
            return [delivery_view(row) for row in s.scalars(q)]

    def get(self, who: Principal, delivery_id: str) -> dict[str, Any]:
        with self._db.tenant_session(who.tenant_id) as s:
            return delivery_view(self._find(s, who, delivery_id), full=True)

    def replay(self, who: Principal, delivery_id: str) -> dict[str, Any]:
        """Queue the delivery again, due now, with the retry schedule reset."""
        now = utcnow()
        with self._db.tenant_session(who.tenant_id) as s:
            row = self._find(s, who, delivery_id)
            endpoint = s.get(WebhookEndpoint, row.endpoint_id)
            if endpoint is None:
                raise Conflict(
                    "the delivery's endpoint was deleted; nothing to send it to",
                    code="endpoint_deleted",
                )
            if not endpoint.enabled:
                raise Conflict(
                    "the delivery's endpoint is disabled; enable it first",
                    code="endpoint_disabled",
                )
            row.status = "pending"
            row.retry_step = 0
            row.next_attempt_at = now
            row.claim_token = None
            row.updated_at = now
            return delivery_view(row, full=True)


__all__ = ["STATUSES", "DeliveryLog", "Status", "delivery_view"]
