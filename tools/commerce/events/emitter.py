"""Queue order events for the agent platform behind a shopper key.

The object registered as ``services.extras["commerce_order_events"]``: the checkout calls
:meth:`OrderEvents.enqueue` with ``order_create`` when an order is created, the merchant's
order actions (:mod:`.lifecycle`) with ``order_update``. Enqueueing writes one outbox row in
the caller's transaction and nothing else: no network. A key without a registered, enabled
platform or without a webhook URL gets no event. After the transaction commits the delivery
loop is woken, so a platform hears of an order within moments rather than at the next poll.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import event
from sqlalchemy.orm import Session

from tools.commerce.events.models import OrderEvent
from tools.commerce.events.wire import WebhookEvent
from tools.commerce.platforms import platform_for_key

log = logging.getLogger(__name__)

EXTRAS_KEY = "commerce_order_events"
"""``services.extras`` entry holding the :class:`OrderEvents` instance."""
EVENT_TYPES = ("order_create", "order_update")


def event_body(event_type: str, order: Mapping[str, Any]) -> str:
    """The ``WebhookEvent`` JSON for ``order`` (validated; the ``data`` is the full order)."""
    data = {**order, "type": "order"}
    envelope = WebhookEvent.model_validate({"type": event_type, "data": data})
    payload = envelope.model_dump(mode="json", exclude_none=True)
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


class OrderEvents:
    """Writes order events to the outbox and wakes the delivery loop after commit."""

    def __init__(self, on_commit: Callable[[], None] | None = None) -> None:
        self.on_commit = on_commit
        """Called after a transaction that queued an event commits (wakes the delivery loop)."""

    def enqueue(
        self,
        session: Session,
        *,
        key_id: str,
        event_type: str,
        order: Mapping[str, Any],
        at: datetime,
    ) -> None:
        """Queue ``event_type`` for the platform of ``key_id`` in the caller's transaction."""
        self.enqueue_row(session, key_id=key_id, event_type=event_type, order=order, at=at)

    def enqueue_row(
        self,
        session: Session,
        *,
        key_id: str,
        event_type: str,
        order: Mapping[str, Any],
        at: datetime,
    ) -> OrderEvent | None:
        """:meth:`enqueue`, returning the row (None when the key's platform takes no events)."""
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown order event type {event_type!r}")
        platform = platform_for_key(session, key_id)
        if platform is None or platform.disabled or not platform.webhook_url:
            return None
        try:
            body = event_body(event_type, order)
        except ValidationError:
            # A bug in how an order was built must not undo the sale that built it: the order
            # stays, the platform hears of it at its next valid update.
            log.exception(
                "order %s is not a valid ACP Order; no %s event", order.get("id"), event_type
            )
            return None
        row = OrderEvent(
            id="evt_" + uuid.uuid4().hex[:24],
            key_id=key_id,
            platform_id=platform.id,
            order_id=str(order.get("id", "")),
            event_type=event_type,
            body=body,
            status="pending",
            attempts=0,
            next_attempt_at=at,
            created_at=at,
            updated_at=at,
        )
        session.add(row)
        session.flush()
        event.listen(session, "after_commit", self._after_commit, once=True)
        return row

    def _after_commit(self, _session: Session) -> None:
        if self.on_commit is not None:
            self.on_commit()


__all__ = ["EVENT_TYPES", "EXTRAS_KEY", "OrderEvents", "event_body"]
