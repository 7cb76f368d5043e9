"""What an agentic purchase proves, attached to its payment for the day the buyer disputes it.

When a checkout completes, the order, the cart the merchant recorded and the credential the
buyer's agent paid with (a delegated, allowance-bound vault token or signed AP2 mandates) become
a payment document (:mod:`tools.payments.documents`) in the same transaction. A dispute on that
payment then counts ``AGENT_AUTHORIZATION`` and ``PRODUCT_DESCRIPTION`` as obtained, and the
dispute agent's draft quotes these texts ("the buyer's agent held a signed mandate for exactly
this cart"). Texts state ids, amounts and times only; the full mandates, receipts and checkout
stay in the document body.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tools.commerce.ports import Charge
from tools.payments.documents import EVIDENCE_TEXT_MAX, attach
from tools.payments.money import minor_to_major
from tools.payments.reasons import AGENT_AUTHORIZATION

KIND = "agentic_checkout"


def _money(minor: int, currency: str) -> str:
    return f"{currency.upper()} {minor_to_major(int(minor), currency.upper()):,}"


def _fit(text: str) -> str:
    return text if len(text) <= EVIDENCE_TEXT_MAX else text[: EVIDENCE_TEXT_MAX - 1] + "…"


def _cart(snapshot: Mapping[str, Any]) -> str:
    currency = str(snapshot.get("currency", ""))
    lines = [
        f"{int(line['quantity'])} × {line.get('name') or line['item']['id']} "
        f"({line['item']['id']}) at {_money(int(line.get('unit_amount', 0)), currency)}"
        for line in snapshot.get("line_items", [])
    ]
    total = next((t for t in snapshot.get("totals", []) if t.get("type") == "total"), None)
    tail = f"; total {_money(int(total['amount']), currency)}" if total else ""
    return "; ".join(lines) + tail


def _authorization(handler_id: str, evidence: Mapping[str, Any], session_id: str) -> str | None:
    ap2 = evidence.get("ap2")
    if isinstance(ap2, Mapping):
        mode = "human present" if ap2.get("human_present") else "human not present, open mandates"
        return (
            f"The buyer's agent held a mandate signed by the buyer for exactly this cart "
            f"({mode}): its checkout hash {ap2.get('checkout_hash')} is the hash of the "
            f"checkout {session_id} the merchant signed, verified before payment; the payment "
            f"mandate names this amount, payee and instrument ({handler_id})."
        )
    token = evidence.get("token_id")
    allowance = evidence.get("allowance")
    if token and isinstance(allowance, Mapping):
        limit = _money(int(allowance.get("max_amount", 0)), str(allowance.get("currency", "")))
        return (
            f"Paid with single-use delegated card token {token} the buyer's agent obtained from "
            f"the payment vault, limited to {limit} for this merchant and checkout {session_id}, "
            f"valid until {allowance.get('expires_at')} ({handler_id})."
        )
    return None


def attach_order_evidence(
    session: Session,
    *,
    order: Mapping[str, Any],
    snapshot: Mapping[str, Any],
    charge: Charge,
    handler_id: str,
    platform: str,
    at: datetime,
) -> None:
    """Attach the order's evidence to ``charge.payment_id`` (nothing when no payment exists)."""
    if charge.payment_id is None:
        return
    session_id = str(snapshot.get("id"))
    texts = {
        "ORDER_INFORMATION": _fit(
            f"Agentic order {order.get('id')} ({order.get('order_number')}) placed through ACP "
            f"checkout {session_id} by agent platform {platform} at {at.isoformat()}."
        ),
        "PRODUCT_DESCRIPTION": _fit(
            f"Cart as the merchant's checkout recorded it: {_cart(snapshot)}."
        ),
    }
    authorised = _authorization(handler_id, charge.evidence, session_id)
    if authorised:
        texts[AGENT_AUTHORIZATION] = _fit(authorised)
    body = {
        "order": dict(order),
        "checkout": dict(snapshot),
        "handler_id": handler_id,
        "credential": dict(charge.evidence),
    }
    attach(session, charge.payment_id, kind=KIND, evidence=texts, body=body, at=at)


__all__ = ["KIND", "attach_order_evidence"]
