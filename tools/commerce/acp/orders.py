"""Orders: the ``com_orders`` rows a completed checkout creates, and their ACP ``Order`` JSON.

The row keeps what disputes and order events need (payment id, handler, the handler's
evidence, the API key and merchant) beside the current ``Order`` JSON (``type: "order"``,
status, line items with ordered/current/fulfilled quantities, totals, confirmation). The
order-events part updates that JSON through :func:`save_order_json` (fulfilments, refunds)
and sends it to the agent platform; checkout answers the short form
``{id, checkout_session_id, permalink_url}`` in the completed session.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tools.commerce.acp.catalog import storefront
from tools.commerce.acp.models import CheckoutSessionRow, OrderRow
from tools.commerce.ports import Charge
from tools.payments.requests import new_id

CREATED = "created"
"""Order status once paid (the spec's webhook example)."""
PENDING_REVIEW = "pending_review"
"""Order status while the payment is held for a risk review."""


def load_order(session: Session, order_id: str) -> OrderRow | None:
    """The order ``order_id`` of the session's tenant, if any."""
    return session.get(OrderRow, order_id)


def order_json(row: OrderRow) -> dict[str, Any]:
    """The order's current ACP ``Order`` JSON."""
    return dict(row.body)


def save_order_json(
    session: Session, row: OrderRow, body: Mapping[str, Any], *, at: datetime
) -> None:
    """Replace the order's JSON (its ``status`` becomes the row's status too)."""
    new = dict(body)
    new["id"], new["checkout_session_id"] = row.id, row.checkout_session_id
    row.body = new
    if isinstance(new.get("status"), str):
        row.status = new["status"]
    row.updated_at = at
    session.flush()


def order_reference(body: Mapping[str, Any]) -> dict[str, Any]:
    """What a completed ``CheckoutSession.order`` shows of an order."""
    keep = ("id", "checkout_session_id", "permalink_url", "order_number", "confirmation")
    return {k: body[k] for k in keep if k in body}


def create_order(
    session: Session,
    checkout: CheckoutSessionRow,
    charge: Charge,
    *,
    handler_id: str,
    order_notes: str | None,
    at: datetime,
) -> OrderRow:
    """The order of a charged (or held) checkout, built from the session's stored JSON."""
    order_id = new_id("ord")
    snapshot = checkout.body
    status = CREATED if charge.status == "captured" else PENDING_REVIEW
    lines = []
    for line in snapshot.get("line_items", []):
        qty = int(line["quantity"])
        entry: dict[str, Any] = {
            "id": line["id"],
            "title": line.get("name") or line["item"]["id"],
            "quantity": {"ordered": qty, "current": qty, "fulfilled": 0},
            "unit_price": line.get("unit_amount", 0),
            "subtotal": line.get("unit_amount", 0) * qty,
            "status": "processing",
        }
        if line.get("product_id"):
            entry["product_id"] = line["product_id"]
        if line.get("images"):
            entry["image_url"] = line["images"][0]
        lines.append(entry)
    number = f"#{order_id[-8:].upper()}"
    confirmation: dict[str, Any] = {"confirmation_number": f"CNF-{order_id[-8:].upper()}"}
    if order_notes:
        confirmation["order_notes"] = order_notes
    body: dict[str, Any] = {
        "type": "order",
        "id": order_id,
        "checkout_session_id": checkout.id,
        "order_number": number,
        "permalink_url": f"{storefront(checkout.merchant_id)}/orders/{order_id}",
        "status": status,
        "line_items": lines,
        "fulfillments": [],
        "totals": list(snapshot.get("totals", [])),
        "confirmation": confirmation,
    }
    row = OrderRow(
        id=order_id,
        merchant_id=checkout.merchant_id,
        key_id=checkout.key_id,
        checkout_session_id=checkout.id,
        status=status,
        payment_id=charge.payment_id,
        handler_id=handler_id,
        evidence=json.loads(json.dumps(dict(charge.evidence), default=str)),
        amount=checkout.total,
        currency=checkout.currency,
        body=body,
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    session.flush()
    return row


__all__ = [
    "CREATED",
    "PENDING_REVIEW",
    "create_order",
    "load_order",
    "order_json",
    "order_reference",
    "save_order_json",
]
