"""The ``dev.acp.tokenized.card`` payment handler: pay a checkout with a delegated vault token.

On complete the agent sends ``{"type": "card", "credential": {"type": "spt", "token":
"spt_…"}}``. The handler, inside the checkout's transaction:

1. parses the instrument (a malformed one is 400 ``invalid_request``);
2. redeems the token against the checkout's own merchant, session, total and currency
   (:func:`tools.commerce.vault.service.redeem`: a token that does not fit raises and
   nothing is written);
3. assesses risk (:func:`tools.commerce.vault.risk.assess`);
4. decides strong customer authentication (:func:`tools.commerce.threeds.sca.authorise`): an
   EEA card above 30 EUR with no verified ``authentication_result`` raises
   ``AuthenticationRequired`` (the checkout rolls all of this back and asks for 3DS); a
   verified result pays with ``three_ds`` and its ECI;
5. pays through the gateway: ``approve`` authorises and captures (AUTOMATIC), ``review``
   only authorises (MANUAL capture: the merchant captures or cancels after review),
   ``decline`` moves nothing.

**The token is spent by any attempt that got past step 2** — captured, held, declined by
risk or by the issuer. That is the safer reading of "single use": a delegated credential
that survives declines can be presented to the issuer again and again (card testing through
an agent), while a buyer whose card was declined asks their agent for another delegation,
which is how ACP's declined-payment flow (a ``payment_declined`` message on a session that
stays ``ready_for_payment``) expects a retry to happen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tools.commerce.charging import pay_answered
from tools.commerce.errors import AcpError
from tools.commerce.ports import Charge, Checkout
from tools.commerce.threeds.sca import Authentication, authorise
from tools.commerce.vault.risk import ModelScorer, RiskDecision, assess, record_charge
from tools.commerce.vault.service import VaultCard, bind_payment, redeem
from tools.payments.gateway import Gateway, PayRequest

HANDLER_ID = "dev.acp.tokenized.card"
HANDLER_VERSION = "2026-04-17"
SPEC_URL = "https://agenticcommerce.dev/handlers/tokenized.card"
DELEGATE_PATH = "/acp/agentic_commerce/delegate_payment"

_DECLINED_TEXT = "The card was declined. Ask the buyer for another payment method."
_RISK_TEXT = "The payment could not be accepted. Ask the buyer for another payment method."


def request_id_for(request_key: str) -> str:
    """The gateway request id of one complete attempt (≤ 64 chars, stable per key)."""
    return "acp_" + hashlib.sha256(request_key.encode()).hexdigest()[:40]


def _token_of(payment_data: Mapping[str, Any]) -> str:
    instrument = payment_data.get("instrument")
    param = "$.payment_data.instrument"
    if not isinstance(instrument, Mapping) or instrument.get("type") != "card":
        raise AcpError(
            f"{HANDLER_ID} takes an instrument of type card",
            code="invalid_payment_instrument",
            param=f"{param}.type",
        )
    credential = instrument.get("credential")
    if not isinstance(credential, Mapping) or credential.get("type") != "spt":
        raise AcpError(
            f"{HANDLER_ID} takes a credential of type spt (a delegated payment token)",
            code="invalid_payment_instrument",
            param=f"{param}.credential.type",
        )
    token = credential.get("token")
    if not isinstance(token, str) or not token.startswith("spt_") or len(token) > 64:
        raise AcpError(
            "the credential token must be a delegated payment token (spt_…)",
            code="invalid_payment_instrument",
            param=f"{param}.credential.token",
        )
    return token


class TokenizedCardHandler:
    """Implements :class:`tools.commerce.ports.PaymentHandler` over the vault and the gateway."""

    def __init__(
        self,
        gateway: Gateway | Callable[[], Gateway],
        *,
        scorer: ModelScorer | None = None,
    ) -> None:
        self._gateway = gateway
        self._scorer = scorer

    @property
    def id(self) -> str:
        return HANDLER_ID

    def descriptor(self) -> dict[str, Any]:
        return {
            "id": HANDLER_ID,
            "name": HANDLER_ID,
            "display_name": "Card",
            "version": HANDLER_VERSION,
            "spec": SPEC_URL,
            "requires_delegate_payment": True,
            "requires_pci_compliance": False,
            "psp": "cockpit",
            "config_schema": f"{SPEC_URL}/config.json",
            "instrument_schemas": [f"{SPEC_URL}/instrument.json"],
            "config": {
                "psp": "cockpit",
                "delegate_payment_path": DELEGATE_PATH,
                "accepted_brands": ["visa", "mastercard", "amex", "jcb", "unionpay"],
                "accepted_funding_types": ["credit", "debit", "prepaid"],
                "single_use": True,
            },
            "display_order": 0,
        }

    def gateway(self) -> Gateway:
        return self._gateway if isinstance(self._gateway, Gateway) else self._gateway()

    def charge(
        self,
        session: Session,
        checkout: Checkout,
        payment_data: Mapping[str, Any],
        *,
        at: datetime,
        request_key: str,
    ) -> Charge:
        token_id = _token_of(payment_data)
        card = redeem(
            session,
            token_id,
            merchant_id=checkout.merchant_id,
            checkout_session_id=checkout.session_id,
            amount=checkout.amount,
            currency=checkout.currency,
            at=at,
        )
        decision = assess(
            session, checkout, card_id=card.card_id, mandate=None, at=at, scorer=self._scorer
        )
        auth = None
        if decision.action != "decline":
            auth = authorise(
                session,
                checkout,
                token_id=card.token_id,
                card_id=card.card_id,
                risk_action=decision.action,
                rates=self.gateway().rates,
                at=at,
            )
        charge = self._pay(session, checkout, card, decision, auth, at=at, request_key=request_key)
        record_charge(
            session, checkout, handler_id=HANDLER_ID, decision=decision, charge=charge, at=at
        )
        return charge

    def _pay(
        self,
        session: Session,
        checkout: Checkout,
        card: VaultCard,
        decision: RiskDecision,
        auth: Authentication | None,
        *,
        at: datetime,
        request_key: str,
    ) -> Charge:
        evidence: dict[str, Any] = {
            "handler_id": HANDLER_ID,
            "token_id": card.token_id,
            "allowance": dict(card.allowance),
            "card": card.display(),
            "risk": decision.to_dict(),
        }
        if auth is not None:
            evidence["three_ds"] = dict(auth.evidence)
        if decision.action == "decline" or auth is None:
            return Charge(
                status="declined",
                payment_id=None,
                message=_RISK_TEXT,
                decline_code="risk_declined",
                evidence=evidence,
            )
        view = pay_answered(
            self.gateway(),
            session,
            PayRequest(
                merchant_id=checkout.merchant_id,
                request_id=request_id_for(request_key),
                amount=checkout.amount,
                currency=checkout.currency.upper(),
                method_type="CARD",
                card_id=card.card_id,
                capture_mode="AUTOMATIC" if decision.action == "approve" else "MANUAL",
                three_ds=auth.three_ds,
                eci=auth.eci,
                metadata={
                    "acp_checkout_session_id": checkout.session_id[:500],
                    "acp_handler": HANDLER_ID,
                },
            ),
            at=at,
        )
        payment_id = str(view["paymentId"]) if "paymentId" in view else None
        if payment_id:
            bind_payment(session, card.token_id, payment_id)
        evidence["payment"] = {
            k: view[k] for k in ("paymentId", "state", "result", "captureMode") if k in view
        }
        state = str(view.get("state") or "")
        if state == "FAILED":
            code = (view.get("paymentResultInfo") or {}).get("refusalCodeRaw")
            return Charge(
                status="declined",
                payment_id=payment_id,
                message=_DECLINED_TEXT,
                decline_code=str(code) if code else "issuer_declined",
                evidence=evidence,
            )
        if state == "CAPTURED":
            return Charge(
                status="captured",
                payment_id=payment_id,
                message="Paid by card.",
                evidence=evidence,
            )
        # AUTHORIZED (held for review) or PROCESSING (the issuer has not answered yet).
        return Charge(
            status="review",
            payment_id=payment_id,
            message="The payment is authorised and held for review.",
            evidence=evidence,
        )


__all__ = ["DELEGATE_PATH", "HANDLER_ID", "TokenizedCardHandler", "request_id_for"]
