"""A checkout session's stored inputs: what the agent asked for, from create and update requests.

The inputs are what :func:`tools.commerce.acp.checkout.render` recomputes the session from
(items, buyer, fulfilment details and choices, discount codes, the agent's capabilities). The
items and fulfilment choices a request names are checked against the merchant's catalogue
here, before they are stored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tools.commerce.acp import checkout as engine
from tools.commerce.acp.catalog import items_by_id
from tools.commerce.acp.models import CheckoutSessionRow
from tools.commerce.acp.requests import CreateRequest, UpdateRequest
from tools.commerce.errors import AcpError

_KEPT_ON_CREATE = (
    "buyer",
    "fulfillment_details",
    "locale",
    "timezone",
    "metadata",
    "quote_id",
    "order_notes",
    "affiliate_attribution",
    "fulfillment_groups",
)
"""Optional create fields stored as sent (when present)."""
_REPLACED_ON_UPDATE = ("buyer", "fulfillment_details", "order_notes", "fulfillment_groups")
"""Update fields that replace the stored value when sent; ``null`` clears it."""


def _dump(value: Any) -> Any:
    """A validated request field as plain JSON."""
    return value.model_dump(exclude_none=True) if hasattr(value, "model_dump") else value


def _codes(req: CreateRequest | UpdateRequest) -> list[str]:
    """The discount codes of a request: ``coupons`` then ``discounts.codes``."""
    return list(req.coupons or []) + list((req.discounts and req.discounts.codes) or [])


def created_inputs(s: Session, merchant_id: str, req: CreateRequest) -> dict[str, Any]:
    """The inputs of a new session, its items checked against the merchant's catalogue."""
    requested = [i.model_dump(exclude_none=True) for i in req.line_items]
    catalogue = items_by_id(s, merchant_id, [i["id"] for i in requested])
    engine.check_items(requested, catalogue)
    inputs: dict[str, Any] = {
        "items": engine.merge_items(requested),
        "capabilities": req.capabilities.model_dump(exclude_none=True),
        "coupons": _codes(req),
        "selected": [],
    }
    for name in _KEPT_ON_CREATE:
        value = getattr(req, name)
        if value is not None:
            inputs[name] = _dump(value)
    return inputs


def updated_inputs(s: Session, row: CheckoutSessionRow, req: UpdateRequest) -> dict[str, Any]:
    """The session's inputs with the update applied (what it names, checked), payment reset."""
    inputs = dict(row.inputs)
    given = req.model_fields_set
    if req.line_items is not None:
        requested = [i.model_dump(exclude_none=True) for i in req.line_items]
        engine.check_items(requested, items_by_id(s, row.merchant_id, [i["id"] for i in requested]))
        inputs["items"] = engine.merge_items(requested)
        if not inputs["items"]:
            raise AcpError(
                "a checkout needs at least one item",
                code="invalid_request",
                param="$.line_items",
            )
    inputs.pop("authentication", None)  # a changed checkout starts its payment over
    inputs.pop("escalation", None)
    for name in _REPLACED_ON_UPDATE:
        if name in given:
            value = getattr(req, name)
            if value is None:
                inputs.pop(name, None)  # null clears; absence leaves it
            else:
                inputs[name] = _dump(value)
    if "coupons" in given or "discounts" in given:
        inputs["coupons"] = _codes(req)
    if req.selected_fulfillment_options is not None:
        chosen = [o.model_dump() for o in req.selected_fulfillment_options]
        catalogue = items_by_id(s, row.merchant_id, [i["id"] for i in inputs["items"]])
        engine.check_selection(chosen, inputs["items"], catalogue)
        inputs["selected"] = chosen
    inputs.pop("payment_error", None)
    return inputs


__all__ = ["created_inputs", "updated_inputs"]
