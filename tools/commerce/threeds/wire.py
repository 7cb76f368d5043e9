"""Delegate-authentication request bodies (ACP 2026-04-17 ``schema.delegate_authentication``),
closed like the schema (``additionalProperties: false``), and the sandbox ACS's EMV 3DS
``CReq``. Objects the PSP only passes through (browser channel, shopper details) are kept
opaque; the PSP stores neither."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from tools.commerce.acp.requests import parse
from tools.commerce.errors import AcpError


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AcquirerDetailsIn(_Closed):
    acquirer_bin: StrictStr = Field(max_length=11)
    acquirer_country: StrictStr = Field(min_length=2, max_length=2)
    acquirer_merchant_id: StrictStr = Field(max_length=35)
    merchant_name: StrictStr = Field(max_length=40)
    requestor_id: StrictStr | None = Field(default=None, max_length=35)


class PaymentMethodIn(_Closed):
    type: Literal["card"]
    number: StrictStr
    """A card number per the spec; this PSP takes the delegated token (``spt_…``) here."""
    exp_month: StrictStr = Field(max_length=2)
    exp_year: StrictStr = Field(max_length=4)
    name: StrictStr


class AmountIn(_Closed):
    value: StrictInt
    currency: StrictStr = Field(pattern=r"^[A-Z]{3}$")


class ChallengePreferenceIn(_Closed):
    type: Literal["mandated", "preferred"] | None = None


class FlowPreferenceIn(_Closed):
    type: Literal["challenge", "frictionless"]
    challenge: ChallengePreferenceIn | None = None
    frictionless: dict[str, Any] | None = None


class BrowserIn(_Closed):
    accept_header: StrictStr
    ip_address: StrictStr = Field(max_length=45)
    javascript_enabled: StrictBool
    language: StrictStr = Field(max_length=35)
    user_agent: StrictStr
    color_depth: StrictInt | None = None
    java_enabled: StrictBool | None = None
    screen_height: StrictInt | None = None
    screen_width: StrictInt | None = None
    timezone_offset: StrictInt | None = None


class ChannelIn(_Closed):
    type: Literal["browser"]
    browser: BrowserIn


class CreateIn(_Closed):
    merchant_id: StrictStr
    acquirer_details: AcquirerDetailsIn | None = None
    payment_method: PaymentMethodIn
    amount: AmountIn
    channel: ChannelIn | None = None
    checkout_session_id: StrictStr | None = None
    flow_preference: FlowPreferenceIn | None = None
    challenge_notification_url: StrictStr | None = None
    shopper_details: dict[str, Any] | None = None


class AuthenticateIn(_Closed):
    fingerprint_completion: Literal["Y", "N", "U"]
    channel: ChannelIn | None = None
    checkout_session_id: StrictStr | None = None
    challenge_notification_url: StrictStr | None = None
    shopper_details: dict[str, Any] | None = None


class CReq(BaseModel):
    """The EMV 3DS challenge request the cardholder's browser posts to the ACS (subset)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    threeDSServerTransID: StrictStr
    acsTransID: StrictStr
    messageType: Literal["CReq"]
    messageVersion: StrictStr
    challengeDataEntry: StrictStr | None = None
    challengeCancel: StrictStr | None = None


def b64url_json(value: Mapping[str, Any]) -> str:
    raw = json.dumps(dict(value), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def parse_creq(payload: Mapping[str, Any] | None) -> CReq:
    """``{"creq": base64url(JSON CReq)}`` → :class:`CReq`, or 400 ``invalid_creq``."""
    text = (payload or {}).get("creq")
    try:
        if not isinstance(text, str):
            raise ValueError("creq is missing")
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return CReq.model_validate(data)
    except (ValueError, binascii.Error) as exc:
        raise AcpError(f"not a valid CReq: {exc}", code="invalid_creq", param="$.creq") from None


__all__ = [
    "AuthenticateIn",
    "CReq",
    "CreateIn",
    "b64url_json",
    "parse",
    "parse_creq",
]
