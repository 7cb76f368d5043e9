"""Inbound ACP request bodies as pydantic models (the trust boundary), per the 2026-04-17
JSON Schema bundle: closed objects (``additionalProperties: false``) forbid unknown fields.

Objects the merchant only stores and echoes (affiliate attribution, company, loyalty, tax
exemption, marketing consents, fulfilment groups, intent-trace metadata) are kept as opaque
JSON objects; everything checkout reads is typed. :func:`parse` turns a validation failure
into a 400 ACP error whose ``param`` is the JSONPath of the first bad field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from tools.commerce.errors import AcpError


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemIn(_Closed):
    id: StrictStr = Field(min_length=1, max_length=128)
    name: StrictStr | None = None
    unit_amount: StrictInt | None = None


class AddressIn(_Closed):
    name: StrictStr
    line_one: StrictStr
    line_two: StrictStr | None = None
    city: StrictStr
    state: StrictStr
    country: StrictStr
    postal_code: StrictStr
    company: StrictStr | None = None


class FulfillmentDetailsIn(_Closed):
    name: StrictStr | None = None
    phone_number: StrictStr | None = None
    email: StrictStr | None = None
    address: AddressIn | None = None


class BuyerIn(_Closed):
    first_name: StrictStr | None = None
    last_name: StrictStr | None = None
    full_name: StrictStr | None = None
    email: StrictStr
    phone_number: StrictStr | None = None
    customer_id: StrictStr | None = None
    account_type: Literal["guest", "registered", "business"] | None = None
    authentication_status: Literal["authenticated", "guest", "requires_signin"] | None = None
    company: dict[str, Any] | None = None
    loyalty: dict[str, Any] | None = None
    tax_exemption: dict[str, Any] | None = None


Intervention = Literal["3ds", "biometric", "address_verification"]


class InterventionsIn(_Closed):
    supported: list[Intervention] | None = None
    required: list[Literal["3ds", "biometric"]] | None = None
    enforcement: Literal["always", "conditional", "optional"] | None = None
    display_context: Literal["native", "webview", "modal", "redirect"] | None = None
    redirect_context: Literal["in_app", "external_browser", "none"] | None = None
    max_redirects: StrictInt | None = Field(default=None, ge=0)
    max_interaction_depth: StrictInt | None = Field(default=None, ge=1)


class CapabilitiesIn(_Closed):
    payment: dict[str, Any] | None = None
    interventions: InterventionsIn | None = None
    extensions: list[Any] | None = None


class SelectedOptionIn(_Closed):
    type: Literal["shipping", "digital", "pickup", "local_delivery"]
    option_id: StrictStr
    item_ids: list[StrictStr]


class DiscountsIn(_Closed):
    codes: list[StrictStr] | None = None


class CreateRequest(_Closed):
    buyer: BuyerIn | None = None
    line_items: list[ItemIn] = Field(min_length=1)
    currency: StrictStr
    fulfillment_details: FulfillmentDetailsIn | None = None
    capabilities: CapabilitiesIn
    fulfillment_groups: list[dict[str, Any]] | None = None
    affiliate_attribution: dict[str, Any] | None = None
    coupons: list[StrictStr] | None = None
    discounts: DiscountsIn | None = None
    locale: StrictStr | None = None
    timezone: StrictStr | None = None
    quote_id: StrictStr | None = None
    metadata: dict[str, Any] | None = None
    order_notes: StrictStr | None = Field(default=None, max_length=5000)


class UpdateRequest(_Closed):
    buyer: BuyerIn | None = None
    line_items: list[ItemIn] | None = None
    fulfillment_details: FulfillmentDetailsIn | None = None
    fulfillment_groups: list[dict[str, Any]] | None = None
    selected_fulfillment_options: list[SelectedOptionIn] | None = None
    coupons: list[StrictStr] | None = None
    discounts: DiscountsIn | None = None
    order_notes: StrictStr | None = Field(default=None, max_length=5000)


class CredentialIn(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    type: StrictStr
    token: StrictStr


class InstrumentIn(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    type: StrictStr
    credential: CredentialIn


class PaymentDataIn(_Closed):
    handler_id: StrictStr | None = None
    instrument: InstrumentIn | None = None
    billing_address: AddressIn | None = None
    purchase_order_number: StrictStr | None = None
    payment_terms: Literal["immediate", "net_15", "net_30", "net_60", "net_90"] | None = None
    due_date: StrictStr | None = None
    approval_required: bool | None = None


class RiskSignalsIn(_Closed):
    ip_address: StrictStr | None = None
    user_agent: StrictStr | None = None
    accept_language: StrictStr | None = None
    session_id: StrictStr | None = None
    device_fingerprint: StrictStr | None = None


class OutcomeDetailsIn(_Closed):
    three_ds_cryptogram: StrictStr
    electronic_commerce_indicator: Literal["01", "02", "05", "06", "07"]
    transaction_id: StrictStr
    version: StrictStr


AuthenticationOutcome = Literal[
    "abandoned",
    "attempt_acknowledged",
    "authenticated",
    "canceled",
    "denied",
    "informational",
    "internal_error",
    "not_supported",
    "processing_error",
    "rejected",
]
DETAILED_OUTCOMES = frozenset({"authenticated", "informational", "attempt_acknowledged"})
"""Outcomes whose ``outcome_details`` are required (the schema's ``if``/``then``)."""


class AuthenticationResultIn(_Closed):
    """The agent's 3-D Secure result (ACP ``AuthenticationResult``)."""

    outcome: AuthenticationOutcome
    outcome_details: OutcomeDetailsIn | None = None

    @model_validator(mode="after")
    def _details_when_authenticated(self) -> AuthenticationResultIn:
        if self.outcome in DETAILED_OUTCOMES and self.outcome_details is None:
            raise ValueError(f"outcome_details are required when the outcome is {self.outcome}")
        return self


class CompleteRequest(_Closed):
    buyer: BuyerIn | None = None
    payment_data: PaymentDataIn
    authentication_result: AuthenticationResultIn | None = None
    affiliate_attribution: dict[str, Any] | None = None
    risk_signals: RiskSignalsIn | None = None
    marketing_consents: list[dict[str, Any]] | None = None
    order_notes: StrictStr | None = Field(default=None, max_length=5000)


class IntentTraceIn(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    reason_code: Literal[
        "price_sensitivity",
        "shipping_cost",
        "shipping_speed",
        "product_fit",
        "trust_security",
        "returns_policy",
        "payment_options",
        "comparison",
        "timing_deferred",
        "other",
    ]
    trace_summary: StrictStr | None = Field(default=None, max_length=500)
    metadata: dict[str, StrictStr | int | float | bool] | None = None


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    intent_trace: IntentTraceIn | None = None


M = TypeVar("M", bound=BaseModel)


def _jsonpath(loc: tuple[int | str, ...]) -> str:
    path = "$"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def parse(model: type[M], payload: Mapping[str, Any] | None) -> M:
    """``payload`` as ``model``, or 400 ``invalid_request`` naming the first bad field."""
    if payload is not None and not isinstance(payload, Mapping):
        raise AcpError("the request body must be a JSON object", code="invalid_request")
    try:
        return model.model_validate(dict(payload or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(p for p in first["loc"] if isinstance(p, int | str))
        raise AcpError(
            f"{_jsonpath(loc)}: {first['msg']}", code="invalid_request", param=_jsonpath(loc)
        ) from None


__all__ = [
    "DETAILED_OUTCOMES",
    "AddressIn",
    "AuthenticationResultIn",
    "BuyerIn",
    "CancelRequest",
    "CapabilitiesIn",
    "CompleteRequest",
    "CreateRequest",
    "FulfillmentDetailsIn",
    "ItemIn",
    "PaymentDataIn",
    "SelectedOptionIn",
    "UpdateRequest",
    "parse",
]
