"""The ``dev.ap2.mandate`` payment handler: pay a checkout on the strength of AP2 mandates.

The agent completes a checkout with ``payment_data.instrument`` =
``{"type": "ap2_mandate", "credential": {"type": "ap2_mandate_chain", "token": <payment
mandate chain>}, "checkout_mandate": <checkout mandate chain>}``. In the checkout's own
transaction we:

1. verify the checkout mandate against the checkout JWT **we** signed and stored for this
   session, and that the stored checkout has not changed since (:mod:`.mandates`);
2. verify the payment mandate: bound to that checkout hash, this merchant, the checkout's total;
3. human not present (open mandates): evaluate every constraint, budget and recurrence against
   the mandate's usage row (locked);
4. refuse a leaf we have seen before (replay store);
5. redeem the payment mandate's instrument (a delegated-payment vault token) for exactly this
   merchant, session and amount, fraud-score it, decide 3-D Secure
   (:func:`tools.commerce.threeds.sca.authorise`: SCA needed and no verified result raises
   ``AuthenticationRequired``, and the checkout rolls all of this back, replay record
   included), and pay through the gateway (``three_ds`` + ECI when authenticated);
6. count the approval against the open mandate, store both leaves and sign receipts.

A refused mandate raises :class:`~tools.commerce.errors.AcpError` whose ``code`` is the AP2
error code; the transaction rolls back, so nothing moves, and the signed Error receipts ride
in the ``AP2-Checkout-Receipt`` / ``AP2-Payment-Receipt`` headers. ``Charge.evidence`` keeps
the disclosed mandates, the signed checkout and the receipts for dispute evidence.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Protocol

from sqlalchemy.orm import Session

from tools.commerce.ap2 import store
from tools.commerce.ap2.constraints import CartLine
from tools.commerce.ap2.errors import MandateRejected
from tools.commerce.ap2.mandates import (
    CheckoutCheck,
    PaymentCheck,
    verify_checkout_mandate,
    verify_payment_mandate,
)
from tools.commerce.ap2.receipts import checkout_receipt, payment_receipt, sign_receipt
from tools.commerce.ap2.sdjwt import SdJwtError, digest, split_chain
from tools.commerce.charging import pay_answered
from tools.commerce.errors import AcpError
from tools.commerce.ports import Charge, Checkout
from tools.commerce.threeds.sca import authorise
from tools.payments.gateway import Gateway
from tools.payments.requests import PayRequest

HANDLER_ID = "dev.ap2.mandate"
INSTRUMENT_TYPE = "ap2_mandate"
CREDENTIAL_TYPE = "ap2_mandate_chain"
PARAM = "$.payment_data.instrument"
SUMMARY = "The buyer's agent held a signed mandate for exactly this cart."


class VaultCardLike(Protocol):
    @property
    def card_id(self) -> str: ...


class Redeem(Protocol):
    """``tools.commerce.vault.service.redeem``: single-use, allowance-bound token → card."""

    def __call__(
        self,
        session: Session,
        token_id: str,
        *,
        merchant_id: str,
        checkout_session_id: str,
        amount: int,
        currency: str,
        at: datetime,
    ) -> VaultCardLike: ...


class Assess(Protocol):
    """``tools.commerce.vault.risk.assess``: approve / review / decline before money moves."""

    def __call__(
        self,
        session: Session,
        checkout: Checkout,
        *,
        card_id: str | None,
        mandate: Mapping[str, Any] | None,
        at: datetime,
    ) -> Any: ...


def _optional(module: str, name: str) -> Any | None:
    try:
        if importlib.util.find_spec(module) is None:
            return None
    except ModuleNotFoundError:
        return None
    return getattr(importlib.import_module(module), name, None)


class Ap2MandateHandler:
    """The ``dev.ap2.mandate`` :class:`~tools.commerce.ports.PaymentHandler`."""

    def __init__(
        self,
        gateway: Gateway | Callable[[], Gateway],
        *,
        redeem: Redeem | None = None,
        assess: Assess | None = None,
    ) -> None:
        self._gateway = gateway
        self._redeem = redeem
        self._assess = assess

    @property
    def gateway(self) -> Gateway:
        return self._gateway if isinstance(self._gateway, Gateway) else self._gateway()

    @property
    def id(self) -> str:
        return HANDLER_ID

    def descriptor(self) -> dict[str, Any]:
        return {
            "id": HANDLER_ID,
            "name": HANDLER_ID,
            "display_name": "AP2 mandate",
            "version": "2026-04-29",
            "spec": "https://ap2-protocol.org/",
            "requires_delegate_payment": True,
            "requires_pci_compliance": False,
            "psp": "cockpit",
            "config_schema": "https://ap2-protocol.org/schemas/open_payment_mandate.json",
            "instrument_schemas": [
                "https://ap2-protocol.org/schemas/payment_mandate.json",
                "https://ap2-protocol.org/schemas/checkout_mandate.json",
            ],
            "config": {
                "ap2_version": "0.2",
                "checkout_jwt_path": "/acp/checkout_sessions/{checkout_session_id}/ap2/checkout_jwt",
                "keys_path": "/acp/ap2/keys",
                "challenge": {"aud": "merchant id", "nonce": "checkout_hash"},
                "payment_instrument": "a delegated-payment token id (spt_…)",
            },
        }

    # ----- charge ---------------------------------------------------------------------------

    def charge(
        self,
        session: Session,
        checkout: Checkout,
        payment_data: Mapping[str, Any],
        *,
        at: datetime,
        request_key: str,
    ) -> Charge:
        charge = self._charge(session, checkout, payment_data, at=at, request_key=request_key)
        risk = charge.evidence.get("risk")
        record = _optional("tools.commerce.vault.risk", "record_charge")
        if record is not None and isinstance(risk, Mapping) and risk.get("action"):
            # The platform's history (declines, disputes) counts mandate payments too.
            decision = SimpleNamespace(action=risk["action"], score=float(risk.get("score") or 0))
            record(
                session, checkout, handler_id=HANDLER_ID, decision=decision, charge=charge, at=at
            )
        return charge

    def _charge(
        self,
        session: Session,
        checkout: Checkout,
        payment_data: Mapping[str, Any],
        *,
        at: datetime,
        request_key: str,
    ) -> Charge:
        checkout_chain, payment_chain = _instrument(payment_data)
        try:
            co, pay = self._verify(session, checkout, checkout_chain, payment_chain, at=at)
        except MandateRejected as exc:
            raise _rejected(session, checkout, exc, checkout_chain, payment_chain, at=at) from exc
        closed = pay.closed
        redeem = self._redeem or _optional("tools.commerce.vault.service", "redeem")
        if redeem is None:
            raise AcpError(
                "mandate payments need the delegated-payment vault",
                code="mandates_not_supported",
                status=503,
                type="service_unavailable",
                param=PARAM,
            )
        card = redeem(
            session,
            closed.payment_instrument.id,
            merchant_id=checkout.merchant_id,
            checkout_session_id=checkout.session_id,
            amount=checkout.amount,
            currency=checkout.currency,
            at=at,
        )
        mandate_view = {
            "handler": HANDLER_ID,
            "human_present": not pay.chain.opens,
            "checkout_hash": co.checkout_hash,
            "payment_mandate": pay.chain.leaf.mandate,
            "open_mandates": [h.mandate for h in (*co.chain.opens, *pay.chain.opens)],
        }
        assess = self._assess or _optional("tools.commerce.vault.risk", "assess")
        risk = (
            assess(session, checkout, card_id=card.card_id, mandate=mandate_view, at=at)
            if assess is not None
            else None
        )
        action = str(getattr(risk, "action", "approve"))
        evidence = _evidence(co, pay, risk)
        if action == "decline":
            return self._declined(
                session,
                checkout,
                co,
                pay,
                evidence,
                at=at,
                payment_id=None,
                code="risk_declined",
                message="The payment was declined by fraud screening.",
            )
        auth = authorise(
            session,
            checkout,
            token_id=closed.payment_instrument.id,
            card_id=card.card_id,
            risk_action=action,
            rates=self.gateway.rates,
            at=at,
        )
        evidence["three_ds"] = dict(auth.evidence)
        view = pay_answered(
            self.gateway,
            session,
            PayRequest(
                merchant_id=checkout.merchant_id,
                request_id=f"ap2_{request_key}"[:64],
                amount=checkout.amount,
                currency=checkout.currency,
                card_id=card.card_id,
                capture_mode="MANUAL" if action == "review" else "AUTOMATIC",
                three_ds=auth.three_ds,
                eci=auth.eci,
                description=f"AP2 mandate payment for checkout {checkout.session_id}",
            ),
            at=at,
        )
        payment_id = str(view["paymentId"])
        result = view["result"]["resultStatus"]
        if result == "F":
            code = str(view.get("paymentResultInfo", {}).get("refusalCodeRaw") or "declined")
            return self._declined(
                session,
                checkout,
                co,
                pay,
                evidence,
                at=at,
                payment_id=payment_id,
                code=code,
                message="The card issuer declined the payment.",
            )
        for hop in pay.stateful_opens:
            store.add_usage(
                session,
                hop.hash,
                amount=closed.payment_amount.amount,
                currency=closed.payment_amount.currency,
                at=at,
            )
        receipts = self._record(
            session,
            checkout,
            co,
            pay,
            at=at,
            status="approved",
            payment_id=payment_id,
            auth_code=view.get("paymentResultInfo", {}).get("authorizationCode"),
        )
        evidence["ap2"]["receipts"] = receipts
        captured = result == "S" and action != "review"
        return Charge(
            status="captured" if captured else "review",
            payment_id=payment_id,
            message="Paid under an AP2 mandate." if captured else "Payment held for review.",
            evidence=evidence,
        )

    def _verify(
        self,
        session: Session,
        checkout: Checkout,
        checkout_chain: str,
        payment_chain: str,
        *,
        at: datetime,
    ) -> tuple[CheckoutCheck, PaymentCheck]:
        trusted = store.trusted_keys(session)
        if not trusted:
            raise MandateRejected("mandates_not_supported", "no mandate issuers are trusted")
        issued = {
            row.checkout_hash: row.checkout_jwt
            for row in store.issued_for(
                session, merchant_id=checkout.merchant_id, session_id=checkout.session_id
            )
        }
        merchant_key = store.merchant_public_key(session, checkout.merchant_id)
        if not issued or merchant_key is None:
            raise MandateRejected(
                "invalid_mandate", "this merchant signed no checkout for this session"
            )
        co = verify_checkout_mandate(
            checkout_chain,
            trusted=trusted,
            merchant_id=checkout.merchant_id,
            issued=issued,
            merchant_key=merchant_key,
            current=checkout.snapshot,
            lines=cart_lines(checkout.line_items),
            at=at,
        )
        pay = verify_payment_mandate(
            payment_chain,
            trusted=trusted,
            merchant_id=checkout.merchant_id,
            checkout=co,
            amount=checkout.amount,
            currency=checkout.currency,
            usage_of=lambda mandate_hash: store.usage(session, mandate_hash),
            at=at,
        )
        for leaf in (co.chain.leaf, pay.chain.leaf):
            if store.seen(session, leaf.hash) is not None:
                raise MandateRejected("invalid_mandate", "this mandate was already presented")
        return co, pay

    def _record(
        self,
        session: Session,
        checkout: Checkout,
        co: CheckoutCheck,
        pay: PaymentCheck,
        *,
        at: datetime,
        status: str,
        payment_id: str | None,
        auth_code: str | None = None,
        error: str | None = None,
        error_description: str | None = None,
    ) -> dict[str, str]:
        """Store both leaves (replay) with the receipts we sign for them."""
        merchant_id = checkout.merchant_id
        co_claims = checkout_receipt(
            merchant_id=merchant_id,
            reference=co.chain.leaf.hash,
            at=at,
            order_id=checkout.session_id,
            error=error,
            error_description=error_description,
        )
        pay_claims = payment_receipt(
            merchant_id=merchant_id,
            reference=pay.chain.leaf.hash,
            payment_id=payment_id or "",
            at=at,
            psp_confirmation_id=payment_id,
            network_confirmation_id=auth_code or payment_id,
            error=error,
            error_description=error_description,
        )
        receipts = {
            "checkout": sign_receipt(session, merchant_id, co_claims, at=at),
            "payment": sign_receipt(session, merchant_id, pay_claims, at=at),
        }
        for kind, chain in (("checkout", co.chain), ("payment", pay.chain)):
            store.record_presentation(
                session,
                leaf_hash=chain.leaf.hash,
                kind=kind,
                merchant_id=merchant_id,
                session_id=checkout.session_id,
                checkout_hash=co.checkout_hash,
                open_mandate_hash=chain.opens[-1].hash if chain.opens else None,
                status=status,
                payment_id=payment_id,
                receipt=receipts[kind],
                at=at,
            )
        return receipts

    def _declined(
        self,
        session: Session,
        checkout: Checkout,
        co: CheckoutCheck,
        pay: PaymentCheck,
        evidence: dict[str, Any],
        *,
        at: datetime,
        payment_id: str | None,
        code: str,
        message: str,
    ) -> Charge:
        receipts = self._record(
            session,
            checkout,
            co,
            pay,
            at=at,
            status="declined",
            payment_id=payment_id,
            error="payment_declined",
            error_description=message,
        )
        evidence["ap2"]["receipts"] = receipts
        return Charge(
            status="declined",
            payment_id=payment_id,
            message=message,
            decline_code=code,
            evidence=evidence,
        )


def cart_lines(line_items: Any) -> list[CartLine]:
    """(item id, quantity) of each stored ACP line item."""
    lines = []
    for li in line_items:
        item = li.get("item") or {}
        lines.append(CartLine(str(item.get("id") or li.get("id")), int(li.get("quantity") or 1)))
    return lines


def _instrument(payment_data: Mapping[str, Any]) -> tuple[str, str]:
    instrument = payment_data.get("instrument")
    credential = instrument.get("credential") if isinstance(instrument, Mapping) else None
    if (
        not isinstance(instrument, Mapping)
        or instrument.get("type") != INSTRUMENT_TYPE
        or not isinstance(credential, Mapping)
        or credential.get("type") != CREDENTIAL_TYPE
        or not isinstance(credential.get("token"), str)
        or not isinstance(instrument.get("checkout_mandate"), str)
    ):
        raise AcpError(
            f"{HANDLER_ID} needs instrument {{type: {INSTRUMENT_TYPE}, credential: {{type: "
            f"{CREDENTIAL_TYPE}, token: <payment mandate chain>}}, checkout_mandate: <chain>}}",
            code="invalid_credential",
            param=PARAM,
        )
    return str(instrument["checkout_mandate"]), str(credential["token"])


def _leaf_reference(chain: str) -> str:
    """b64url hash of the closed leaf JWT, or of the raw text when it does not parse."""
    try:
        return split_chain(chain)[-1].jwt_hash
    except SdJwtError:
        return digest(chain.encode("utf-8", "replace").decode("ascii", "replace"))


def _rejected(
    session: Session,
    checkout: Checkout,
    exc: MandateRejected,
    checkout_chain: str,
    payment_chain: str,
    *,
    at: datetime,
) -> AcpError:
    """The ACP error for a refused mandate, with signed Error receipts in its headers (when
    the merchant has a key: a key made now would roll back with the transaction)."""
    headers: dict[str, str] = {}
    if store.merchant_public_key(session, checkout.merchant_id) is not None:
        co = checkout_receipt(
            merchant_id=checkout.merchant_id,
            reference=_leaf_reference(checkout_chain),
            at=at,
            error=exc.code,
            error_description=exc.message,
        )
        pay = payment_receipt(
            merchant_id=checkout.merchant_id,
            reference=_leaf_reference(payment_chain),
            payment_id="",
            at=at,
            error=exc.code,
            error_description=exc.message,
        )
        headers["AP2-Checkout-Receipt"] = sign_receipt(session, checkout.merchant_id, co, at=at)
        headers["AP2-Payment-Receipt"] = sign_receipt(session, checkout.merchant_id, pay, at=at)
    return AcpError(
        f"AP2 mandate refused: {exc.message}",
        code=exc.code,
        status=400,
        param=PARAM,
        headers=headers,
    )


def _evidence(co: CheckoutCheck, pay: PaymentCheck, risk: Any) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "handler": HANDLER_ID,
        "ap2": {
            "summary": SUMMARY,
            "human_present": not (co.chain.opens or pay.chain.opens),
            "checkout_hash": co.checkout_hash,
            "checkout_jwt": co.checkout_jwt,
            "checkout": co.checkout,
            "checkout_mandate": co.chain.evidence(),
            "payment_mandate": pay.chain.evidence(),
            "payment_instrument": pay.closed.payment_instrument.model_dump(exclude_none=True),
            "receipts": {},
        },
    }
    if risk is not None:
        evidence["risk"] = {
            "action": getattr(risk, "action", None),
            "score": getattr(risk, "score", None),
            "reasons": list(getattr(risk, "reasons", []) or []),
        }
    return evidence


__all__ = ["CREDENTIAL_TYPE", "HANDLER_ID", "INSTRUMENT_TYPE", "Ap2MandateHandler", "cart_lines"]
