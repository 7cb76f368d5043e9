"""The merchant's order actions after checkout: fulfil, ship, deliver, refund, cancel.

Each action changes the order's stored ACP ``Order`` JSON the way the spec's examples show
(``examples/orders/*.json``): a fulfilment lists the line items and quantities it carries
with tracking and an append-only event log; line items count ``ordered`` / ``current`` /
``fulfilled`` and derive their status; a refund is an ``adjustments[]`` entry and the
``amount_refunded`` total tracks the cumulative sum while ``total`` stays the charged amount.
Refunds and cancellations move real money through :meth:`Gateway.refund_in` /
:meth:`Gateway.cancel_in` in the caller's transaction, under a gateway request id derived from
the merchant's idempotency key, so a retried refund never pays twice. Every change queues an
``order_update`` event for the agent platform in the same transaction.

Orders belong to the checkout (:mod:`tools.commerce.acp.orders`); this module only reads and
writes them through its ``load_order`` / ``order_json`` / ``save_order_json``.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from cockpit.errors import Conflict, NotFound, ValidationFailed
from tools.commerce.acp.models import OrderRow
from tools.commerce.acp.orders import load_order, order_json, save_order_json
from tools.payments.gateway import Gateway, load_payment
from tools.payments.requests import RefundRequest

FulfillmentType = Literal["shipping", "pickup", "digital"]
FULFILLMENT_STATUSES = (
    "pending",
    "processing",
    "shipped",
    "in_transit",
    "out_for_delivery",
    "ready_for_pickup",
    "delivered",
    "failed",
    "canceled",
)
"""Values a merchant may set on a fulfilment (the spec's defined ``Fulfillment.status``)."""
_FIRST_STATUS: dict[str, str] = {
    "shipping": "shipped",
    "pickup": "ready_for_pickup",
    "digital": "delivered",
}
_DONE = ("delivered",)


class EventSink(Protocol):
    def enqueue(
        self,
        session: Session,
        *,
        key_id: str,
        event_type: str,
        order: Mapping[str, Any],
        at: datetime,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class LineQty:
    """A quantity of one order line item (a fulfilment's or a refund's share of it)."""

    id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Shipment:
    """What a fulfilment carries besides its items."""

    type: FulfillmentType = "shipping"
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    description: str | None = None
    digital_delivery: Mapping[str, str] | None = None
    """``access_url`` / ``license_key`` / ``expires_at`` of a digital delivery."""
    status: str | None = None
    """Initial status; default by type (``shipped``, ``ready_for_pickup``, ``delivered``)."""


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def gateway_request_id(order_id: str, action: str, key: str) -> str:
    """The gateway request id of a money action on an order (≤ 64 chars, stable per key)."""
    digest = hashlib.sha256(f"{order_id}\x00{action}\x00{key}".encode()).hexdigest()
    return f"ord_{action[:8]}_{digest[:40]}"


def line_status(quantity: Mapping[str, int]) -> str:
    """``OrderLineItem.status`` as the spec derives it from the quantity fields."""
    current, fulfilled = quantity.get("current", 0), quantity.get("fulfilled", 0)
    if current == 0:
        return "removed"
    if fulfilled >= current:
        return "fulfilled"
    return "partial" if fulfilled > 0 else "processing"


def order_status(order: Mapping[str, Any]) -> str:
    """The order-level status its line items and fulfilments imply."""
    status = str(order.get("status") or "confirmed")
    if status == "canceled":
        return status
    lines = [li for li in order.get("line_items") or [] if li["quantity"].get("current", 0) > 0]
    if not lines:
        return status
    fulfilled = [li["quantity"].get("fulfilled", 0) >= li["quantity"]["current"] for li in lines]
    if all(fulfilled):
        live = [f for f in order.get("fulfillments") or [] if f.get("status") != "canceled"]
        return "completed" if live and all(f.get("status") in _DONE for f in live) else "shipped"
    if any(li["quantity"].get("fulfilled", 0) > 0 for li in lines):
        return "processing"
    return status


def _set_total(order: dict[str, Any], kind: str, label: str, amount: int) -> None:
    totals: list[dict[str, Any]] = order.setdefault("totals", [])
    for total in totals:
        if total.get("type") == kind:
            total["amount"] = amount
            return
    totals.append({"type": kind, "display_text": label, "amount": amount})


def amount_refunded(order: Mapping[str, Any]) -> int:
    """Money returned to the buyer so far (completed refund and cancellation adjustments)."""
    return sum(
        int(adj.get("amount") or 0)
        for adj in order.get("adjustments") or []
        if adj.get("type") in ("refund", "cancellation") and adj.get("status") == "completed"
    )


def _total(order: Mapping[str, Any], kind: str) -> int | None:
    for total in order.get("totals") or []:
        if total.get("type") == kind:
            return int(total["amount"])
    return None


def items_refund_amount(order: Mapping[str, Any], items: Sequence[LineQty]) -> int:
    """What refunding ``items`` returns: their price plus their share of the order's tax
    (rounded half up), as the spec's refunded-order example computes it."""
    lines = {li["id"]: li for li in order.get("line_items") or []}
    goods = 0
    for item in items:
        line = lines[item.id]
        unit = line.get("unit_price")
        if unit is None:
            subtotal = int(line.get("subtotal") or 0)
            unit = subtotal // max(int(line["quantity"]["ordered"]), 1)
        goods += int(unit) * item.quantity
    tax = _total(order, "tax") or 0
    base = _total(order, "subtotal") or sum(int(li.get("subtotal") or 0) for li in lines.values())
    share = (2 * tax * goods + base) // (2 * base) if base > 0 and tax > 0 else 0
    return goods + share


def _merge(items: Sequence[LineQty]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for item in items:
        if item.quantity < 1:
            raise ValidationFailed(
                f"quantity of {item.id!r} must be at least 1",
                code="invalid_quantity",
                param="line_items",
            )
        merged[item.id] = merged.get(item.id, 0) + item.quantity
    return merged


def _line(order: Mapping[str, Any], line_id: str) -> dict[str, Any]:
    for line in order.get("line_items") or []:
        if line["id"] == line_id:
            return dict(line)
    raise ValidationFailed(
        f"the order has no line item {line_id!r}", code="unknown_line_item", param="line_items"
    )


class OrderActions:
    """The merchant's order actions over one gateway; ``events`` gets each ``order_update``."""

    def __init__(self, gateway: Gateway, events: EventSink | None) -> None:
        self.gateway = gateway
        self.events = events

    # ----- reading -----------------------------------------------------------------------
    def load(self, session: Session, order_id: str, *, merchant_id: str | None) -> OrderRow:
        """The order row, locked for this transaction; 404 for another merchant's order."""
        row = load_order(session, order_id)
        if row is None or (merchant_id is not None and row.merchant_id != merchant_id):
            raise NotFound(f"no order {order_id!r}", code="order_not_found", param="order_id")
        session.refresh(row, with_for_update=True)
        return row

    def _body(self, row: OrderRow) -> dict[str, Any]:
        return copy.deepcopy(dict(order_json(row)))

    def _save(self, session: Session, row: OrderRow, body: dict[str, Any], *, at: datetime) -> None:
        body["status"] = order_status(body)
        for line in body.get("line_items") or []:
            line["status"] = line_status(line["quantity"])
        save_order_json(session, row, body, at=at)
        if self.events is not None:
            self.events.enqueue(
                session, key_id=row.key_id, event_type="order_update", order=body, at=at
            )

    # ----- fulfilment --------------------------------------------------------------------
    def fulfil(
        self,
        session: Session,
        order_id: str,
        *,
        merchant_id: str | None,
        items: Sequence[LineQty] | None,
        shipment: Shipment,
        at: datetime,
    ) -> dict[str, Any]:
        """Dispatch ``items`` (None: everything not yet fulfilled) as one new fulfilment."""
        row = self.load(session, order_id, merchant_id=merchant_id)
        body = self._body(row)
        if body.get("status") == "canceled":
            raise Conflict(f"{order_id} was canceled", code="order_canceled", param="order_id")
        lines = body.get("line_items") or []
        if items is None:
            wanted = {
                li["id"]: li["quantity"]["current"] - li["quantity"].get("fulfilled", 0)
                for li in lines
                if li["quantity"]["current"] - li["quantity"].get("fulfilled", 0) > 0
            }
        else:
            wanted = _merge(items)
        if not wanted:
            raise Conflict(
                f"every item of {order_id} is already fulfilled",
                code="nothing_to_fulfil",
                param="line_items",
            )
        for line_id, qty in wanted.items():
            q = _line(body, line_id)["quantity"]
            left = q["current"] - q.get("fulfilled", 0)
            if qty > left:
                raise Conflict(
                    f"only {left} of {line_id!r} can still be fulfilled, not {qty}",
                    code="fulfilment_exceeds_order",
                    param="line_items",
                )
        for line in lines:
            if line["id"] in wanted:
                q = line["quantity"]
                q["fulfilled"] = q.get("fulfilled", 0) + wanted[line["id"]]
        status = shipment.status or _FIRST_STATUS[shipment.type]
        if status not in FULFILLMENT_STATUSES:
            raise ValidationFailed(
                f"unknown fulfilment status {status!r}", code="invalid_status", param="status"
            )
        fulfillment: dict[str, Any] = {
            "id": _new_id("ful"),
            "type": shipment.type,
            "status": status,
            "line_items": [{"id": k, "quantity": v} for k, v in wanted.items()],
        }
        for name in ("carrier", "tracking_number", "tracking_url", "description"):
            value = getattr(shipment, name)
            if value:
                fulfillment[name] = value
        if shipment.digital_delivery:
            fulfillment["digital_delivery"] = dict(shipment.digital_delivery)
        fulfillment["events"] = [{"id": _new_id("fev"), "type": status, "occurred_at": _stamp(at)}]
        body.setdefault("fulfillments", []).append(fulfillment)
        self._save(session, row, body, at=at)
        return body

    def track(
        self,
        session: Session,
        order_id: str,
        fulfillment_id: str,
        *,
        merchant_id: str | None,
        status: str,
        description: str | None = None,
        location: str | None = None,
        at: datetime,
    ) -> dict[str, Any]:
        """Move a fulfilment on (``in_transit``, ``delivered``, …), logging the event."""
        if status not in FULFILLMENT_STATUSES:
            raise ValidationFailed(
                f"unknown fulfilment status {status!r}", code="invalid_status", param="status"
            )
        row = self.load(session, order_id, merchant_id=merchant_id)
        body = self._body(row)
        for fulfillment in body.get("fulfillments") or []:
            if fulfillment["id"] == fulfillment_id:
                break
        else:
            raise NotFound(
                f"{order_id} has no fulfilment {fulfillment_id!r}",
                code="fulfillment_not_found",
                param="fulfillment_id",
            )
        fulfillment["status"] = status
        event: dict[str, Any] = {"id": _new_id("fev"), "type": status, "occurred_at": _stamp(at)}
        if description:
            event["description"] = description
        if location:
            event["location"] = location
        fulfillment.setdefault("events", []).append(event)
        self._save(session, row, body, at=at)
        return body

    # ----- money -------------------------------------------------------------------------
    def refund(
        self,
        session: Session,
        order_id: str,
        *,
        merchant_id: str | None,
        key: str,
        amount: int | None = None,
        items: Sequence[LineQty] | None = None,
        reason: str | None = None,
        description: str | None = None,
        at: datetime,
    ) -> dict[str, Any]:
        """Refund ``amount`` (or what ``items`` cost with their tax share, or everything still
        refundable) on the order's payment; ``key`` makes a retry a replay."""
        row = self.load(session, order_id, merchant_id=merchant_id)
        body = self._body(row)
        if not row.payment_id:
            raise Conflict(
                f"{order_id} has no payment to refund", code="order_not_paid", param="order_id"
            )
        merged = _merge(items) if items else {}
        refunded_units: dict[str, int] = {}
        for adj in body.get("adjustments") or []:
            if adj.get("type") == "refund":
                for ref in adj.get("line_items") or []:
                    refunded_units[ref["id"]] = refunded_units.get(ref["id"], 0) + ref["quantity"]
        for line_id, qty in merged.items():
            current = _line(body, line_id)["quantity"]["current"]
            left = current - refunded_units.get(line_id, 0)
            if qty > left:
                raise Conflict(
                    f"only {left} of {line_id!r} can still be refunded, not {qty}",
                    code="refund_exceeds_order",
                    param="line_items",
                )
        refs = [LineQty(k, v) for k, v in merged.items()]
        if amount is None:
            if refs:
                amount = items_refund_amount(body, refs)
            else:
                payment = load_payment(session, row.payment_id, merchant_id=row.merchant_id)
                amount = payment.captured_amount - payment.refunded_amount
        if amount <= 0:
            raise ValidationFailed(
                "a refund must be more than zero", code="invalid_amount", param="amount"
            )
        response = self.gateway.refund_in(
            session,
            RefundRequest(
                merchant_id=row.merchant_id,
                payment_id=row.payment_id,
                request_id=gateway_request_id(row.id, "refund", key),
                amount=amount,
                reason=reason,
            ),
            at=at,
        )
        adjustment_id = "adj_" + str(response["refundId"]).removeprefix("ref_")
        if any(a.get("id") == adjustment_id for a in body.get("adjustments") or []):
            return body  # the same refund again: already on the order, nothing new to tell
        adjustment: dict[str, Any] = {
            "id": adjustment_id,
            "type": "refund",
            "occurred_at": _stamp(at),
            "status": "completed",
        }
        if refs:
            adjustment["line_items"] = [{"id": r.id, "quantity": r.quantity} for r in refs]
        adjustment["amount"] = amount
        adjustment["currency"] = str(row.currency).lower()
        if description:
            adjustment["description"] = description
        if reason:
            adjustment["reason"] = reason
        body.setdefault("adjustments", []).append(adjustment)
        _set_total(body, "amount_refunded", "Refunded", amount_refunded(body))
        self._save(session, row, body, at=at)
        return body

    def cancel(
        self,
        session: Session,
        order_id: str,
        *,
        merchant_id: str | None,
        key: str,
        reason: str | None = None,
        at: datetime,
    ) -> dict[str, Any]:
        """Cancel an order nothing of which was dispatched; its payment is cancelled (held
        funds) or refunded in full (captured funds)."""
        row = self.load(session, order_id, merchant_id=merchant_id)
        body = self._body(row)
        if body.get("status") == "canceled":
            raise Conflict(
                f"{order_id} is already canceled", code="order_canceled", param="order_id"
            )
        lines = body.get("line_items") or []
        if any(li["quantity"].get("fulfilled", 0) > 0 for li in lines):
            raise Conflict(
                f"part of {order_id} was already dispatched, so it cannot be canceled; refund "
                "the items instead",
                code="order_fulfilled",
                param="order_id",
            )
        returned = 0
        if row.payment_id:
            payment = load_payment(session, row.payment_id, merchant_id=row.merchant_id)
            if payment.state == "CAPTURED":
                left = payment.captured_amount - payment.refunded_amount
                if left > 0:
                    self.gateway.refund_in(
                        session,
                        RefundRequest(
                            merchant_id=row.merchant_id,
                            payment_id=row.payment_id,
                            request_id=gateway_request_id(row.id, "cancel", key),
                            amount=left,
                            reason=reason or "order canceled",
                        ),
                        at=at,
                    )
                    returned = left
            elif payment.state != "CANCELLED":
                self.gateway.cancel_in(session, row.merchant_id, row.payment_id, at=at)
        refs = [
            {"id": li["id"], "quantity": li["quantity"]["current"]}
            for li in lines
            if li["quantity"]["current"] > 0
        ]
        for line in lines:
            line["quantity"]["current"] = 0
        adjustment: dict[str, Any] = {
            "id": _new_id("adj"),
            "type": "cancellation",
            "occurred_at": _stamp(at),
            "status": "completed",
        }
        if refs:
            adjustment["line_items"] = refs
        adjustment["amount"] = returned
        adjustment["currency"] = str(row.currency).lower()
        if reason:
            adjustment["reason"] = reason
        body.setdefault("adjustments", []).append(adjustment)
        if returned:
            _set_total(body, "amount_refunded", "Refunded", amount_refunded(body))
        body["status"] = "canceled"
        self._save(session, row, body, at=at)
        return body


__all__ = [
    "FULFILLMENT_STATUSES",
    "EventSink",
    "LineQty",
    "OrderActions",
    "Shipment",
    "amount_refunded",
    "gateway_request_id",
    "items_refund_amount",
    "line_status",
    "order_status",
]
