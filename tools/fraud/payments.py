"""Scoring a stored payment by its id: the contract with whoever stores payments.

"Is pay_… legit?" names only the payment; the customer, card, device, IP, amount, currency,
method and countries the model needs are on the stored payment. The payments domain provides
a :class:`PaymentSource` in ``extras`` under :data:`PAYMENT_SOURCE_KEY` (its start-up hook puts
one there); fraud never imports the payments package, so either can be installed alone.

The source answers with the transaction as callers would send it (:class:`TransactionIn`'s
fields, ``txn_id`` = the payment id), scoped to the caller's merchant: a bound key asking for
another merchant's payment gets 404 ``payment_not_found``, like a payment that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from cockpit.db.session import Database
from cockpit.errors import ToolError
from cockpit.toolkit.ids import check_id
from tools.fraud.blocks import Blocked
from tools.fraud.schema import Transaction, parse_transaction

if TYPE_CHECKING:  # the service module imports the model (LightGBM, pandas): callers have it
    from tools.fraud.service import FraudService

PAYMENT_SOURCE_KEY = "fraud_payment_source"
"""``extras`` entry holding the :class:`PaymentSource` (set by the payments start-up hook)."""


@runtime_checkable
class PaymentSource(Protocol):
    def transaction(
        self, tenant_id: str, payment_id: str, *, merchant_id: str | None
    ) -> dict[str, Any]:
        """The stored payment as a transaction to score (404 ``payment_not_found`` when the
        caller, bound to ``merchant_id``, may not see it)."""
        ...


def payment_transaction(
    extras: Mapping[str, Any], tenant_id: str, payment_id: str, *, merchant_id: str | None
) -> tuple[Transaction, dict[str, Any]]:
    """(the transaction to score, the fields read from the payment) for ``payment_id``."""
    check_id(payment_id, "payment", param="payment_id")
    source = extras.get(PAYMENT_SOURCE_KEY)
    if not isinstance(source, PaymentSource):
        raise ToolError(
            "stored payments cannot be read here; send the transaction's details instead",
            code="payment_records_unavailable",
            param="payment_id",
        )
    fields = source.transaction(tenant_id, payment_id, merchant_id=merchant_id)
    return parse_transaction(dict(fields)), dict(fields)


def score_payment(
    service: FraudService,
    db: Database,
    extras: Mapping[str, Any],
    tenant_id: str,
    payment_id: str,
    *,
    blocked: Blocked,
    merchant_id: str | None,
) -> dict[str, Any]:
    """Score a stored payment (REST and tool alike): the score result, plus ``payment_id`` and
    ``scored_from_payment`` — the fields read from the record, so an answer can say so."""
    txn, read = payment_transaction(extras, tenant_id, payment_id, merchant_id=merchant_id)
    result = service.score(db, txn, blocked=blocked, merchant_id=merchant_id)
    return {**result, "payment_id": payment_id, "scored_from_payment": read}


__all__ = ["PAYMENT_SOURCE_KEY", "PaymentSource", "payment_transaction", "score_payment"]
