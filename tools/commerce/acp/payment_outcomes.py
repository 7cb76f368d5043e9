"""What a payment attempt leaves in the stored checkout session when it creates no order.

A decline (by the handler, or a 3-D Secure result that did not authenticate the buyer) keeps
the session payable with a recoverable ``payment_declined`` message; a card that needs 3-D
Secure first makes it ``authentication_required`` for an agent that declared ``3ds``, else
``requires_escalation`` with a ``continue_url`` to the merchant's site. :func:`reopened` is the
stored body every attempt starts from. These functions only rewrite the session row: what the
handler charged (or, for these outcomes, did not) is decided by the caller.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tools.commerce.acp import checkout as engine
from tools.commerce.acp.catalog import storefront
from tools.commerce.acp.models import CheckoutSessionRow
from tools.commerce.acp.requests import AuthenticationResultIn
from tools.commerce.ports import Charge

_NOT_AUTHENTICATED_TEXT = {
    "denied": "The card issuer denied the 3-D Secure authentication.",
    "rejected": "The card issuer rejected the 3-D Secure authentication.",
    "abandoned": "The 3-D Secure authentication was abandoned.",
    "canceled": "The 3-D Secure authentication was canceled.",
    "not_supported": "This card cannot be authenticated with 3-D Secure.",
}


def _fresh_body(
    row: CheckoutSessionRow, inputs: Mapping[str, Any], *, at: datetime
) -> dict[str, Any]:
    """A copy of the stored body without a past decline, with the buyer now given."""
    body = copy.deepcopy(dict(row.body))
    body["messages"] = [m for m in body["messages"] if m.get("code") != "payment_declined"]
    body["updated_at"] = engine.iso(at)
    if "buyer" in inputs:
        body["buyer"] = inputs["buyer"]
    return body


def reopened(row: CheckoutSessionRow, inputs: Mapping[str, Any], *, at: datetime) -> dict[str, Any]:
    """The stored body without a past decline or a pending 3DS request (status kept)."""
    body = _fresh_body(row, inputs, at=at)
    if body["status"] == "authentication_required":
        body["status"] = "ready_for_payment"
        body["capabilities"]["interventions"].update(required=[], enforcement="conditional")
    engine.show_intervention(body, inputs)
    return body


def declined(
    row: CheckoutSessionRow,
    inputs: dict[str, Any],
    body: dict[str, Any],
    charge: Charge | None,
    *,
    at: datetime,
    content: str | None = None,
    param: str = "$.payment_data",
) -> dict[str, Any]:
    """A ``payment_declined`` session the buyer may retry (nothing was charged)."""
    inputs["payment_error"] = {
        "type": "error",
        "code": "payment_declined",
        "content_type": "plain",
        "content": content
        or (charge.message if charge is not None else "")
        or "Your payment was declined. Please try a different payment method.",
        "severity": "high",
        "resolution": "recoverable",
        "param": param,
    }
    body["messages"].append(inputs["payment_error"])
    row.inputs, row.body, row.status, row.updated_at = inputs, body, body["status"], at
    return body


def not_authenticated(
    row: CheckoutSessionRow,
    inputs: dict[str, Any],
    auth: AuthenticationResultIn,
    *,
    at: datetime,
) -> dict[str, Any]:
    """3DS did not authenticate the buyer: decline, move nothing; a retry starts over."""
    inputs.pop("authentication", None)
    body = reopened(row, inputs, at=at)
    reason = _NOT_AUTHENTICATED_TEXT.get(
        auth.outcome, f"3-D Secure authentication failed ({auth.outcome})."
    )
    content = f"{reason} Nothing was charged; retry the authentication or use another card."
    return declined(
        row, inputs, body, None, at=at, content=content, param="$.authentication_result"
    )


def intervene(
    row: CheckoutSessionRow,
    inputs: dict[str, Any],
    metadata: Mapping[str, Any],
    *,
    at: datetime,
) -> dict[str, Any]:
    """Ask for 3DS (an agent that declared ``3ds``) or escalate to the buyer (others)."""
    inputs.pop("payment_error", None)
    asked = (inputs.get("capabilities") or {}).get("interventions") or {}
    body = _fresh_body(row, inputs, at=at)
    if "3ds" in (asked.get("supported") or []):
        inputs["authentication"] = dict(metadata)
        body["status"] = "authentication_required"
    else:
        inputs["escalation"] = {
            "continue_url": f"{storefront(row.merchant_id)}/checkout/{row.id}",
            "message": {
                "type": "error",
                "code": "intervention_required",
                "content_type": "plain",
                "content": "The card issuer requires 3-D Secure authentication, which this "
                "agent did not declare it can run. The buyer can finish the purchase on "
                "the merchant's site.",
                "severity": "high",
                "resolution": "requires_buyer_input",
                "param": engine.ESCALATION_PARAM,
            },
        }
        body["status"] = "requires_escalation"
        body["messages"].append(dict(inputs["escalation"]["message"]))
    engine.show_intervention(body, inputs)
    row.inputs, row.body, row.status, row.updated_at = inputs, body, body["status"], at
    return body


__all__ = ["declined", "intervene", "not_authenticated", "reopened"]
