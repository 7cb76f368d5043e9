"""Merchant webhooks: an outbox, HMAC signatures, the retry schedule and a reference receiver.

Events are written to ``pay_notifications`` in the same transaction as the
change they report (so a crash never loses or invents one). A dispatcher
delivers due rows, signs each body with the merchant's secret as
``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``, logs every attempt
and reschedules on the DOMAIN.md §2.5 intervals until acknowledged (8 tries).
:class:`WebhookReceiver` is what a merchant runs: it verifies the signature,
rejects stale timestamps (replays) and acknowledges duplicates without
processing them twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from cockpit.db.base import utcnow
from cockpit.db.session import Database, session_tenant
from cockpit.errors import AuthError
from tools.payments import statements
from tools.payments.models import Delivery, Merchant, Notification

RETRY_SCHEDULE = (
    timedelta(0),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=15),
)
"""Wait before attempt n (DOMAIN.md §2.5); after the last one the row is FAILED."""
SIGNATURE_HEADER = "Cockpit-Signature"
ACK_BODY = {"result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}}

Transport = Callable[[str, dict[str, str], bytes], int]
"""``(url, headers, body) -> HTTP status``; tests pass an in-memory receiver."""


OUTBOX = cast(Table, Notification.__table__)
OUTBOX_DISABLED = "pay_outbox_disabled"
"""Session flag for bulk loads of history (the demo world) whose merchants have no endpoint."""


def enqueue(
    session: Session, merchant_id: str, notify_type: str, payload: dict[str, Any], *, at: datetime
) -> str | None:
    """Write an outbox row in the caller's transaction; returns its id."""
    ids = enqueue_all(session, merchant_id, [(notify_type, payload)], at=at)
    return ids[0] if ids else None


def enqueue_all(
    session: Session,
    merchant_id: str,
    events: list[tuple[str, dict[str, Any]]],
    *,
    at: datetime,
) -> list[str]:
    """Write one outbox row per ``(notify type, payload)``, in order, in one statement."""
    if session.info.get(OUTBOX_DISABLED) or not events:
        return []
    tenant = session_tenant(session)
    ids = ["ntf_" + uuid.uuid4().hex[:24] for _ in events]
    rows: list[dict[str, Any]] = [
        {
            "id": note_id,
            "tenant_id": tenant,
            "merchant_id": merchant_id,
            "notify_type": notify_type,
            "payload": payload,
            "status": "PENDING",
            "attempts": 0,
            "next_attempt_at": at + RETRY_SCHEDULE[0],
            "created_at": at,
            "delivered_at": None,
        }
        for note_id, (notify_type, payload) in zip(ids, events, strict=True)
    ]
    statements.insert_values(statements.bound(session), OUTBOX, rows)
    return ids


def body_bytes(note_id: str, notify_type: str, payload: dict[str, Any]) -> bytes:
    envelope = {"notificationId": note_id, "notifyType": notify_type, "data": payload}
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


def sign(secret: str, body: bytes, *, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, *, now: int, tolerance_s: int = 300) -> None:
    """Raise :class:`AuthError` unless ``header`` signs ``body`` recently."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise AuthError("malformed signature header", code="signature_malformed") from None
    expected = sign(secret, body, timestamp=timestamp).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, given):
        raise AuthError("signature does not match the body", code="signature_invalid")
    if abs(now - timestamp) > tolerance_s:
        raise AuthError("signature timestamp outside the tolerance", code="signature_stale")


@dataclass(slots=True)
class WebhookReceiver:
    """Reference merchant endpoint: verify, reject replays, process each notification once."""

    secret: str
    tolerance_s: int = 300
    clock: Callable[[], float] = time.time
    processed: dict[str, dict[str, Any]] = field(default_factory=dict)
    duplicates: int = 0

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            verify(self.secret, body, headers.get(SIGNATURE_HEADER, ""),
                   now=int(self.clock()), tolerance_s=self.tolerance_s)  # fmt: skip
        except AuthError as exc:
            return 401, {"error": exc.code}
        envelope = json.loads(body)
        note_id = envelope["notificationId"]
        if note_id in self.processed:
            self.duplicates += 1  # already handled: acknowledge again, do nothing
        else:
            self.processed[note_id] = envelope
        return 200, ACK_BODY

    def transport(self, url: str, headers: dict[str, str], body: bytes) -> int:
        return self.handle(headers, body)[0]


def deliver_due(
    db: Database,
    tenant_id: str,
    transport: Transport,
    *,
    at: datetime | None = None,
    limit: int = 100,
) -> dict[str, int]:
    """Send every due notification once; returns counts by outcome.

    Reads the due rows in one short transaction, calls the transport outside any
    transaction (a slow endpoint never holds database locks), then records each
    outcome in a second transaction. Delivery is at least once: two dispatchers
    racing may both send, which receivers absorb by deduplicating on the id.
    """
    now = at or utcnow()
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    with db.tenant_session(tenant_id) as session:
        due = session.scalars(
            select(Notification)
            .where(Notification.status == "PENDING", Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at)
            .limit(limit)
        ).all()
        endpoints = {
            m.id: (m.webhook_url, m.webhook_secret)
            for m in session.scalars(
                select(Merchant).where(Merchant.id.in_({n.merchant_id for n in due}))
            )
        }
        batch = [(n.id, n.merchant_id, body_bytes(n.id, n.notify_type, n.payload)) for n in due]
    outcomes: list[tuple[str, int | None, str | None]] = []
    for note_id, merchant_id, body in batch:
        url, secret = endpoints.get(merchant_id, (None, ""))
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            SIGNATURE_HEADER: sign(secret, body, timestamp=int(now.timestamp())),
        }
        status: int | None = None
        error: str | None = None
        if not url:
            error = "merchant has no webhook url"
        else:
            try:
                status = transport(url, headers, body)
            except Exception as exc:  # network failures are logged, then retried
                error = type(exc).__name__
        outcomes.append((note_id, status, error))
    with db.tenant_session(tenant_id) as session:
        for note_id, status, error in outcomes:
            note = session.scalar(
                select(Notification).where(Notification.id == note_id).with_for_update()
            )
            if note is None or note.status != "PENDING":
                continue  # another dispatcher finished it meanwhile
            note.attempts += 1
            ok = status == 200
            session.add(Delivery(notification_id=note.id, attempt=note.attempts, attempted_at=now,
                                 status_code=status, acknowledged=ok, error=error))  # fmt: skip
            if ok:
                note.status, note.delivered_at, note.next_attempt_at = "DELIVERED", now, None
                counts["delivered"] += 1
            elif note.attempts >= len(RETRY_SCHEDULE):
                note.status, note.next_attempt_at = "FAILED", None
                counts["failed"] += 1
            else:
                note.next_attempt_at = now + RETRY_SCHEDULE[note.attempts]
                counts["retrying"] += 1
    return counts


def delivery_log(session: Session, notification_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Delivery)
        .where(Delivery.notification_id == notification_id)
        .order_by(Delivery.attempt)
    ).all()
    return [
        {"attempt": d.attempt, "at": d.attempted_at.isoformat(), "status": d.status_code,
         "acknowledged": d.acknowledged, "error": d.error}
        for d in rows
    ]  # fmt: skip


__all__ = [
    "ACK_BODY",
    "OUTBOX_DISABLED",
    "RETRY_SCHEDULE",
    "SIGNATURE_HEADER",
    "Transport",
    "WebhookReceiver",
    "body_bytes",
    "deliver_due",
    "delivery_log",
    "enqueue",
    "enqueue_all",
    "sign",
    "verify",
]
