"""The delegate-payment request as ACP 2026-04-17 defines it, validated at the trust boundary.

Pydantic models mirror ``DelegatePaymentRequest`` (closed objects, the schema's enums, lengths
and patterns). Any problem becomes an :class:`~tools.commerce.errors.AcpError` in the delegate
API's own ``Error`` shape: ``invalid_request`` / ``invalid_card`` with ``param`` the RFC 9535
JSONPath of the field (that schema's code list has nothing closer for allowance fields).
Structural problems (missing, wrong type, unknown field) answer 400; the semantic checks made
later (Luhn, expiry, merchant) answer 422, as the spec's examples do.

Error messages never quote the submitted value: the value may be a card number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
)

from tools.commerce.errors import AcpError


def _integral(value: Any) -> Any:
    # JSON Schema's integer is the number's value: 2000.0 is 2000, but true is not 1.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_integral)]
"""An integer as JSON Schema reads one (``1.0`` counts, booleans do not)."""


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, hide_input_in_errors=True)


class PaymentMethodCard(_Closed):
    type: Literal["card"]
    card_number_type: Literal["fpan", "network_token"]
    number: str = Field(min_length=1, max_length=32)
    exp_month: str | None = Field(default=None, max_length=2)
    exp_year: str | None = Field(default=None, max_length=4)
    name: str | None = Field(default=None, max_length=256)
    cvc: str | None = Field(default=None, max_length=4)
    cryptogram: str | None = Field(default=None, max_length=512)
    eci_value: str | None = Field(default=None, max_length=2)
    checks_performed: list[Literal["avs", "cvv", "ani", "auth0"]] | None = None
    iin: str | None = Field(default=None, max_length=8)
    display_card_funding_type: Literal["credit", "debit", "prepaid"]
    display_wallet_type: str | None = Field(default=None, max_length=64)
    display_brand: str | None = Field(default=None, max_length=32)
    display_last4: str | None = Field(default=None, pattern=r"^[0-9]{4}$")
    metadata: dict[str, str]
    virtual: StrictBool | None = None


class Allowance(_Closed):
    reason: Literal["one_time"]
    max_amount: JsonInt
    currency: str = Field(pattern=r"^[a-z]{3}$")
    checkout_session_id: str = Field(min_length=1, max_length=255)
    merchant_id: str = Field(min_length=1, max_length=256)
    expires_at: str = Field(min_length=1, max_length=64)


class Address(_Closed):
    name: str = Field(max_length=256)
    line_one: str = Field(max_length=60)
    line_two: str | None = Field(default=None, max_length=60)
    city: str = Field(max_length=60)
    state: str = Field(max_length=100)
    country: str = Field(min_length=2, max_length=2)
    postal_code: str = Field(max_length=20)


class RiskSignal(_Closed):
    type: Literal["card_testing"]
    score: JsonInt
    action: Literal["blocked", "manual_review", "authorized"]


class DelegatePaymentRequest(_Closed):
    payment_method: PaymentMethodCard
    allowance: Allowance
    billing_address: Address | None = None
    risk_signals: list[RiskSignal]
    metadata: dict[str, str]


def invalid(message: str, param: str, *, status: int = 422) -> AcpError:
    """The delegate API's error for a bad field (``invalid_card``, param a JSONPath)."""
    return AcpError(message, code="invalid_card", status=status, param=param)


def _path(loc: tuple[int | str, ...]) -> str:
    out = "$"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def parse_request(payload: Any) -> DelegatePaymentRequest:
    """Validate the body; 400 ``invalid_card`` naming the first offending field."""
    if not isinstance(payload, dict):
        raise invalid("the request body must be a JSON object", "$", status=400)
    try:
        return DelegatePaymentRequest.model_validate(payload)
    except ValidationError as exc:
        err = exc.errors(include_input=False, include_url=False)[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        param = _path(loc)
        if err["type"] == "missing":
            message = f"{param} is required"
        elif err["type"] == "extra_forbidden":
            message = f"{param} is not a field of a delegate payment request"
        else:
            message = f"{param}: {err['msg']}"
        raise invalid(message, param, status=400) from None


def parse_instant(text: str, param: str) -> datetime:
    """An RFC 3339 date-time with an offset (``Z`` allowed); 400 otherwise."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise invalid(f"{param} must be an RFC 3339 date-time", param, status=400) from None
    if value.tzinfo is None:
        raise invalid(f"{param} must carry a time zone offset", param, status=400)
    return value


__all__ = [
    "Address",
    "Allowance",
    "DelegatePaymentRequest",
    "PaymentMethodCard",
    "RiskSignal",
    "invalid",
    "parse_instant",
    "parse_request",
]
