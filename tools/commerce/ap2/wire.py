"""AP2 v0.2 mandate shapes (``ap2/*.json``, ``ap2/types/*.json``) as pydantic models.

These are the trust boundary: a disclosed mandate is validated here before anything reads it.
They mirror the official JSON Schemas (tests check our mandates against those files; runtime
code never needs them). Unknown properties are kept (the schemas allow them) but ignored.
Constraints stay plain objects here: :mod:`tools.commerce.ap2.constraints` validates each by
its ``type`` so an unknown type can be told apart from a malformed known one.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

VCT_CHECKOUT = "mandate.checkout.1"
VCT_CHECKOUT_OPEN = "mandate.checkout.open.1"
VCT_PAYMENT = "mandate.payment.1"
VCT_PAYMENT_OPEN = "mandate.payment.open.1"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Amount(_Wire):
    amount: StrictInt
    """Minor units."""
    currency: str


class Merchant(_Wire):
    id: str
    name: str
    website: str | None = None


class PaymentInstrument(_Wire):
    id: str
    """For ``dev.ap2.mandate`` at Cockpit: a delegated-payment vault token id (``spt_…``)."""
    type: str
    description: str | None = None


class Pisp(_Wire):
    legal_name: str
    brand_name: str
    domain_name: str


class _Mandate(_Wire):
    iat: StrictInt | None = None
    exp: StrictInt | None = None


class CheckoutMandate(_Mandate):
    """Closed checkout mandate: the buyer (or agent) approves exactly this merchant-signed cart."""

    vct: Literal["mandate.checkout.1"]
    checkout_jwt: str | None = None
    """Selectively disclosable; when withheld, ``checkout_hash`` alone binds the cart."""
    checkout_hash: str


class OpenCheckoutMandate(_Mandate):
    """Open checkout mandate: what an agent may put in a cart on the user's behalf."""

    vct: Literal["mandate.checkout.open.1"]
    constraints: list[dict[str, Any]] = Field(min_length=1)
    cnf: dict[str, Any]


class PaymentMandate(_Mandate):
    """Closed payment mandate: pay this payee this amount with this instrument for this cart."""

    vct: Literal["mandate.payment.1"]
    transaction_id: str
    payee: Merchant
    payment_amount: Amount
    payment_instrument: PaymentInstrument
    pisp: Pisp | None = None
    execution_date: str | None = None
    risk_data: dict[str, Any] | None = None


class OpenPaymentMandate(_Mandate):
    """Open payment mandate: limits on what an agent may pay; claims set here are fixed."""

    vct: Literal["mandate.payment.open.1"]
    constraints: list[dict[str, Any]] = Field(min_length=1)
    cnf: dict[str, Any]
    payee: Merchant | None = None
    payment_amount: Amount | None = None
    payment_instrument: PaymentInstrument | None = None
    pisp: Pisp | None = None
    execution_date: str | None = None
    risk_data: dict[str, Any] | None = None


MODELS: dict[str, type[_Mandate]] = {
    VCT_CHECKOUT: CheckoutMandate,
    VCT_CHECKOUT_OPEN: OpenCheckoutMandate,
    VCT_PAYMENT: PaymentMandate,
    VCT_PAYMENT_OPEN: OpenPaymentMandate,
}
"""Exact ``vct`` → model (the ``.1`` suffix is part of the type)."""

PRESET_PAYMENT_CLAIMS = ("payee", "payment_amount", "payment_instrument", "pisp", "execution_date")
"""Claims an open payment mandate may fix; the closed mandate must repeat them unchanged."""

__all__ = [
    "MODELS",
    "PRESET_PAYMENT_CLAIMS",
    "VCT_CHECKOUT",
    "VCT_CHECKOUT_OPEN",
    "VCT_PAYMENT",
    "VCT_PAYMENT_OPEN",
    "Amount",
    "CheckoutMandate",
    "Merchant",
    "OpenCheckoutMandate",
    "OpenPaymentMandate",
    "PaymentInstrument",
    "PaymentMandate",
    "Pisp",
]
