"""A stored payment as the fraud engine scores it (``tools.fraud.payments.PaymentSource``).

Fraud scores "is pay_… legit?" from the payment record alone: this source reads the payment,
its device (for the IP), customer (account age, country), card (issuing country) and merchant
(MCC) and returns the transaction in the fraud API's field names. It reaches the fraud tools
through ``extras`` (:data:`EXTRAS_KEY`), so neither package imports the other.

What the record lacks is filled so it links nothing: a wallet payment has no card, so its card
is ``card_none_<payment suffix>`` — never one shared placeholder, which would join every wallet
payment into one fake ring in the entity graph.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from cockpit.db.session import Database
from tools.payments.gateway import load_merchant
from tools.payments.models import Card, Customer, Device, Payment
from tools.payments.queries import scoped_payment
from tools.payments.tx import read_tx

EXTRAS_KEY = "fraud_payment_source"
"""Where the fraud tools look for this source (``tools.fraud.payments.PAYMENT_SOURCE_KEY``)."""

_METHOD = {"CARD": "card", "MOBILE_BANKING_APP": "bank_transfer"}
"""Payment method category → the fraud engine's method (wallets otherwise)."""


def _mine(session: Session, model: Any, key: str | None, tenant: str) -> Any:
    row = session.get(model, key) if key else None
    # session.get skips the tenant criteria on identity-map hits: check the tenant here.
    return row if row is not None and row.tenant_id == tenant else None


def transaction_of(session: Session, payment: Payment) -> dict[str, Any]:
    """The fraud API's transaction fields for a stored payment."""
    tenant = payment.tenant_id
    device: Device | None = _mine(session, Device, payment.device_id, tenant)
    customer: Customer | None = _mine(session, Customer, payment.customer_id, tenant)
    card: Card | None = _mine(session, Card, payment.card_id, tenant)
    merchant = load_merchant(session, payment.merchant_id)
    market = payment.market
    home = customer.country if customer is not None else market
    own = payment.id.removeprefix("pay_")
    return {
        "txn_id": payment.id,
        "ts": payment.created_at.timestamp(),
        "customer_id": payment.customer_id or f"cus_none_{own}",
        "card_id": payment.card_id or f"card_none_{own}",
        "device_id": payment.device_id or f"dev_none_{own}",
        # No device, no IP: a digest of the payment id (an IP-like value of its own).
        "ip": device.ip if device is not None else hashlib.sha256(own.encode()).hexdigest()[:32],
        "merchant_id": payment.merchant_id,
        "amount_minor": payment.amount,
        "currency": payment.currency,
        "method": _METHOD.get(payment.method_category, "wallet"),
        "mcc": int(merchant.mcc) if merchant.mcc.isdigit() else 5999,
        "card_country": (card.issuing_country if card else payment.issuing_country) or market,
        "ip_country": market,
        "ship_country": home,
        "account_created_ts": customer.created_at.timestamp() if customer is not None else None,
        "declined": payment.state == "FAILED",
    }


class PaymentTransactionSource:
    """Reads stored payments for fraud scoring, scoped to the caller's merchant."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def transaction(
        self, tenant_id: str, payment_id: str, *, merchant_id: str | None
    ) -> dict[str, Any]:
        return read_tx(
            self._db,
            tenant_id,
            lambda s: transaction_of(s, scoped_payment(s, payment_id, merchant_id)),
        )


__all__ = ["EXTRAS_KEY", "PaymentTransactionSource", "transaction_of"]
