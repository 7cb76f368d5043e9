"""What the ACP checkout hands a payment handler, and what it gets back.

The checkout (``tools.commerce.acp``) knows nothing of how money moves; each payment handler it
advertises (the delegated-payment vault's ``dev.acp.tokenized.card``, AP2 mandates) implements
:class:`PaymentHandler`. Handlers run inside the checkout's own database transaction, so the
order, the token's redemption, the mandate's replay record and the gateway's payment and
ledger entries commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

HANDLERS_KEY = "commerce_payment_handlers"
"""``services.extras`` entry: ``dict[handler_id, PaymentHandler]`` (set by the start-up hook)."""


@dataclass(frozen=True, slots=True)
class Checkout:
    """The merchant's own stored checkout, as a payment handler must check it."""

    tenant_id: str
    merchant_id: str
    session_id: str
    key_id: str
    """The agent platform's API key (the shopper principal's key id)."""
    platform_id: str | None
    """The registered agent platform behind that key, if any."""
    amount: int
    """The session's ``total`` in minor units."""
    currency: str
    """Uppercase ISO 4217."""
    line_items: tuple[Mapping[str, Any], ...]
    """ACP ``LineItem`` objects as stored (``item.id``, ``quantity``, ``unit_amount``, ...)."""
    snapshot: Mapping[str, Any]
    """The ACP ``CheckoutSession`` JSON as the merchant last returned it."""
    risk_signals: Mapping[str, Any] | None = None
    """``risk_signals`` of the complete request."""
    authentication_result: Mapping[str, Any] | None = None
    """The complete request's ACP ``authentication_result`` (3-D Secure), if any: handlers
    pass it to :func:`tools.commerce.threeds.sca.authorise`, which verifies it."""


@dataclass(frozen=True, slots=True)
class Charge:
    """A handler's answer: money moved (``captured``), held (``review``) or nothing moved."""

    status: Literal["captured", "review", "declined"]
    payment_id: str | None
    """The gateway payment (``pay_…``); None when nothing reached the gateway."""
    message: str
    """Buyer-facing sentence for a decline (ACP ``MessageError.content``), else a summary."""
    decline_code: str | None = None
    """Why it was declined (gateway result code, risk, mandate or token reason)."""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    """What the handler wants kept with the order and shown in dispute evidence (token id,
    allowance, mandates, receipts, risk assessment)."""


class PaymentHandler(Protocol):
    """One ACP payment handler."""

    @property
    def id(self) -> str:
        """``handler_id`` the agent sends in ``payment_data``."""
        ...

    def descriptor(self) -> dict[str, Any]:
        """The ACP ``PaymentHandler`` object advertised in sessions and discovery."""
        ...

    def charge(
        self,
        session: Session,
        checkout: Checkout,
        payment_data: Mapping[str, Any],
        *,
        at: datetime,
        request_key: str,
    ) -> Charge:
        """Verify the credential against ``checkout`` and move the money, in ``session``.

        ``request_key`` is unique per complete attempt (derive gateway request ids from it).
        Raise :class:`tools.commerce.errors.AcpError` for a malformed or unusable credential
        (the checkout answers it as an HTTP-level ACP error and nothing is stored); return a
        ``declined`` charge for a payment the buyer may retry with something else.
        """
        ...


__all__ = ["HANDLERS_KEY", "Charge", "Checkout", "PaymentHandler"]
