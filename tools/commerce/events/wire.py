"""The ACP ``Order`` and the webhook ``WebhookEvent`` as pydantic models (ACP 2026-04-17).

Order events cross a trust boundary twice: the merchant builds them from its stored order
JSON and the platform's receiver parses what arrives. Both go through these models, which
mirror the official JSON Schema definitions (closed objects: unknown fields are refused, as
``additionalProperties: false`` does). Open enumerations of the spec (order, line item,
fulfilment and adjustment ``status``/``type`` strings that "MUST accept unrecognized values")
are plain strings; closed ones are literals.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Address(_Closed):
    name: str
    line_one: str
    line_two: str | None = None
    city: str
    state: str
    country: str
    postal_code: str
    company: str | None = None


class TaxBreakdownItem(_Closed):
    jurisdiction: str
    rate: float
    amount: int


TotalType = Literal[
    "items_base_amount",
    "items_discount",
    "subtotal",
    "discount",
    "fulfillment",
    "tax",
    "fee",
    "gift_wrap",
    "tip",
    "store_credit",
    "total",
    "amount_refunded",
]


class Total(_Closed):
    type: TotalType
    display_text: str
    amount: int
    """Minor units."""
    presentment_amount: int | None = None
    description: str | None = None
    breakdown: list[TaxBreakdownItem] | None = None


class EstimatedDelivery(_Closed):
    earliest: str
    latest: str


class OrderConfirmation(_Closed):
    confirmation_number: str | None = None
    confirmation_email_sent: bool | None = None
    receipt_url: str | None = None
    invoice_number: str | None = None
    order_notes: str | None = None


class SupportInfo(_Closed):
    email: str | None = None
    phone: str | None = None
    hours: str | None = None
    help_center_url: str | None = None


class OrderLineItemQuantity(_Closed):
    ordered: int = Field(ge=1)
    """What the buyer ordered."""
    current: int = Field(ge=0)
    """Still on the order after cancellations and returns (0: removed)."""
    fulfilled: int = Field(0, ge=0)
    """Dispatched (shipped, picked up or delivered digitally)."""


class OrderLineItem(_Closed):
    id: str
    title: str
    product_id: str | None = None
    description: str | None = None
    image_url: str | None = None
    url: str | None = None
    quantity: OrderLineItemQuantity
    unit_price: int | None = None
    subtotal: int | None = None
    totals: list[Total] | None = None
    status: str | None = None
    """``processing``, ``partial``, ``fulfilled`` or ``removed`` (derived from quantity)."""


class LineItemReference(_Closed):
    id: str
    quantity: int = Field(ge=1)


class FulfillmentEvent(_Closed):
    id: str
    type: str
    occurred_at: str
    description: str | None = None
    location: str | None = None


class DigitalDelivery(BaseModel):
    # The only object of the Order schema left open (no additionalProperties: false).
    model_config = ConfigDict(extra="allow")
    access_url: str | None = None
    license_key: str | None = None
    expires_at: str | None = None


class Fulfillment(_Closed):
    id: str
    type: Literal["shipping", "pickup", "digital"]
    status: str | None = None
    line_items: list[LineItemReference] | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    destination: Address | None = None
    estimated_delivery: EstimatedDelivery | None = None
    digital_delivery: DigitalDelivery | None = None
    description: str | None = None
    events: list[FulfillmentEvent] | None = None


class Adjustment(_Closed):
    id: str
    type: str
    """``refund``, ``credit``, ``return``, ``exchange``, ``price_adjustment``,
    ``cancellation`` or ``dispute``."""
    occurred_at: str
    status: str
    line_items: list[LineItemReference] | None = None
    amount: int | None = None
    """Credited to the buyer, minor units, tax included."""
    currency: str | None = Field(None, pattern=r"^[a-z]{3}$")
    description: str | None = None
    reason: str | None = None


class Order(_Closed):
    """An ACP ``Order``; the webhook's ``data`` additionally requires ``type`` and ``status``."""

    type: Literal["order"] | None = None
    id: str
    checkout_session_id: str
    order_number: str | None = None
    client_reference_id: str | None = None
    permalink_url: str
    status: str | None = None
    estimated_delivery: EstimatedDelivery | None = None
    confirmation: OrderConfirmation | None = None
    support: SupportInfo | None = None
    line_items: list[OrderLineItem] | None = None
    fulfillments: list[Fulfillment] | None = None
    adjustments: list[Adjustment] | None = None
    totals: list[Total] | None = None


class EventDataOrder(Order):
    type: Literal["order"]
    status: str


class WebhookEvent(_Closed):
    """``POST /agentic_checkout/webhooks/order_events`` body."""

    type: str
    """``order_create`` or ``order_update``; receivers accept other values."""
    data: EventDataOrder


def order_payload(order: dict[str, Any]) -> dict[str, Any]:
    """``order`` checked against :class:`Order` and dumped without absent fields."""
    return Order.model_validate(order).model_dump(mode="json", exclude_none=True)


__all__ = [
    "Address",
    "Adjustment",
    "EventDataOrder",
    "Fulfillment",
    "FulfillmentEvent",
    "LineItemReference",
    "Order",
    "OrderLineItem",
    "OrderLineItemQuantity",
    "Total",
    "WebhookEvent",
    "order_payload",
]
