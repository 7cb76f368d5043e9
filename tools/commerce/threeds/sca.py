"""The seller's strong-customer-authentication decision for one agent payment, before money moves.

Both card-paying handlers (the vault's ``dev.acp.tokenized.card`` and AP2's
``dev.ap2.mandate``) call :func:`authorise` after the credential was verified and risk
assessed, and pass what it returns to the gateway (``three_ds`` and the ECI).

**When SCA is required** (PSD2, DOMAIN.md §4.4, matching the issuer simulator's ``sca_required``
hazard): the card was issued in the EEA (:data:`tools.payments.simulator.EEA`) and the amount
is above 30 EUR equivalent. Exemptions and scope, as decided here:

* *low value* — 30 EUR or less is exempt, per transaction. The issuer's cumulative counters
  (5 transactions / 100 EUR) are the issuer's to keep; the simulator does not model them.
* *out of scope* — a card issued outside the EEA (one leg out) needs none.
* *no directory server* — brands ACP cannot authenticate (``directory_server`` is only
  ``visa``, ``mastercard``, ``american_express``) are paid without 3DS and may soft-decline.
* not claimed: TRA (needs the PSP's fraud rate, and an accepted exemption shifts no
  liability), MIT/recurring (agent checkouts are customer-initiated). A one-leg-out *acquirer*
  is not exempted either, because EEA issuers (and the simulator) still ask for SCA.

When SCA is required and the agent brought no result, :func:`authorise` raises
:class:`AuthenticationRequired` with the ACP ``authentication_metadata`` (the checkout rolls
the handler's work back and answers ``authentication_required``). An agent's
``authentication_result`` (``authenticated`` / ``attempt_acknowledged``) is never taken on
trust: it must name an authentication this PSP performed (:mod:`.service`) for this checkout,
merchant, agent key, token and amount, with the same cryptogram, ECI and version, still
unused and unexpired; it is consumed with the payment (one authentication, one authorisation).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tools.commerce.errors import AcpError
from tools.commerce.ports import Checkout
from tools.commerce.threeds.acs import directory_server
from tools.commerce.threeds.models import AuthenticationSession
from tools.payments.models import Card, Merchant
from tools.payments.money import FixedRates
from tools.payments.simulator import EEA

LOW_VALUE_EUR = 30.0
"""PSD2 low-value exemption: SCA is required only above this amount (EUR equivalent)."""
SUCCESS_OUTCOMES = frozenset({"authenticated", "attempt_acknowledged", "informational"})
"""``AuthenticationResult.outcome`` values that carry ``outcome_details`` (a cryptogram)."""
_PSP_STATUS = {"authenticated": "authenticated", "attempt_acknowledged": "attempted"}
"""Agent outcome → the delegate-authentication status our row must have."""
ACQUIRER_BINS = {"visa": "431274", "mastercard": "545301", "american_express": "376512"}
"""Cockpit's (simulated) acquirer BIN per directory server."""
RESULT_PARAM = "$.authentication_result"


class AuthenticationRequired(Exception):
    """This payment needs 3-D Secure first; ``metadata`` is the ACP ``authentication_metadata``."""

    def __init__(self, metadata: Mapping[str, Any]) -> None:
        super().__init__("3-D Secure authentication is required")
        self.metadata = dict(metadata)


@dataclass(frozen=True, slots=True)
class Authentication:
    """What the gateway is told: whether 3DS ran and its ECI, and why."""

    three_ds: bool
    eci: str | None
    basis: str
    """``authenticated``, ``attempted``, ``exempt_low_value``, ``out_of_scope``,
    ``no_directory_server``."""
    evidence: dict[str, Any] = field(default_factory=dict)


def amount_eur(amount: int, currency: str, rates: FixedRates | None = None) -> float:
    return (rates or FixedRates()).convert(amount, currency.upper(), "EUR").target_minor / 100


def sca_basis(card: Card, amount: int, currency: str, rates: FixedRates | None = None) -> str:
    """``required``, ``exempt_low_value`` or ``out_of_scope`` for this card and amount."""
    if (card.issuing_country or "").upper() not in EEA:
        return "out_of_scope"
    if amount_eur(amount, currency, rates) <= LOW_VALUE_EUR:
        return "exempt_low_value"
    return "required"


def acquirer_details(session: Session, merchant_id: str, ds: str) -> dict[str, str]:
    """The acquirer data the agent passes to its 3DS provider (AReq), for this merchant."""
    merchant = session.get(Merchant, merchant_id)
    name = merchant.name if merchant is not None else merchant_id
    country = merchant.country if merchant is not None else "SG"
    return {
        "acquirer_bin": ACQUIRER_BINS[ds],
        "acquirer_country": country.upper()[:2],
        "acquirer_merchant_id": merchant_id[:35],
        "merchant_name": name[:40],
        "requestor_id": f"cockpit_{merchant_id}"[:35],
    }


def authentication_metadata(
    session: Session, merchant_id: str, ds: str, *, risk_action: str
) -> dict[str, Any]:
    """ACP ``authentication_metadata``: a challenge is preferred when risk wants review."""
    preference: dict[str, Any] = (
        {"type": "challenge", "challenge": {"type": "preferred"}}
        if risk_action == "review"
        else {"type": "frictionless", "frictionless": {"type": "low_risk"}}
    )
    return {
        "acquirer_details": acquirer_details(session, merchant_id, ds),
        "directory_server": ds,
        "flow_preference": preference,
    }


def _refused(reason: str) -> AcpError:
    return AcpError(
        f"the authentication_result was not accepted: {reason}",
        code="authentication_result_invalid",
        status=400,
        param=RESULT_PARAM,
    )


def _verified(
    session: Session,
    checkout: Checkout,
    result: Mapping[str, Any],
    *,
    token_id: str,
    at: datetime,
) -> AuthenticationSession:
    """Our own authentication row behind ``result``, consumed now; else 400."""
    outcome = str(result.get("outcome"))
    details = result.get("outcome_details")
    if not isinstance(details, Mapping):
        raise _refused("outcome_details are required for this outcome")
    wanted = _PSP_STATUS.get(outcome)
    if wanted is None:
        raise _refused(f"this PSP issues no {outcome!r} authentications")
    row = session.scalar(
        select(AuthenticationSession).where(
            AuthenticationSession.ds_trans_id == str(details.get("transaction_id"))
        )
    )
    if row is None:
        raise _refused("no authentication with this transaction_id was performed here")
    checks = (
        (row.status == wanted, f"the authentication is {row.status}, not {outcome}"),
        (row.merchant_id == checkout.merchant_id, "it was made for another merchant"),
        (row.checkout_session_id == checkout.session_id, "it was made for another checkout"),
        (row.key_id == checkout.key_id, "it was made by another agent platform"),
        (row.token_id == token_id, "it authenticated another payment credential"),
        (
            row.amount == checkout.amount and row.currency == checkout.currency.upper(),
            "it authenticated another amount",
        ),
        (
            row.cryptogram is not None
            and hmac.compare_digest(row.cryptogram, str(details.get("three_ds_cryptogram"))),
            "the cryptogram does not match",
        ),
        (row.eci == details.get("electronic_commerce_indicator"), "the ECI does not match"),
        (row.version == details.get("version"), "the 3DS version does not match"),
        (row.consumed_at is None, "it was already used for a payment"),
        (at < row.expires_at, "it has expired"),
    )
    for ok, reason in checks:
        if not ok:
            raise _refused(reason)
    won = session.execute(
        update(AuthenticationSession)
        .where(AuthenticationSession.id == row.id, AuthenticationSession.consumed_at.is_(None))
        .values(consumed_at=at, consumed_by=checkout.session_id)
        .execution_options(synchronize_session=False)
    )
    if getattr(won, "rowcount", 0) != 1:  # a concurrent payment used it first
        raise _refused("it was already used for a payment")
    return row


def authorise(
    session: Session,
    checkout: Checkout,
    *,
    token_id: str,
    card_id: str,
    risk_action: str = "approve",
    rates: FixedRates | None = None,
    at: datetime,
) -> Authentication:
    """The 3DS data to pay ``checkout`` with the card of ``token_id``, or raise.

    Raises :class:`AuthenticationRequired` (SCA needed, no result yet) or a 400
    :class:`AcpError` (``authentication_result_invalid``: a result we did not issue).
    """
    card = session.get(Card, card_id)
    if card is None:  # pragma: no cover - the vault's foreign key keeps it
        raise AcpError("the card is not known", code="invalid_payment_instrument", status=422)
    ds = directory_server(card.brand)
    result = checkout.authentication_result
    if result is not None and result.get("outcome") in SUCCESS_OUTCOMES:
        row = _verified(session, checkout, result, token_id=token_id, at=at)
        basis = "authenticated" if row.status == "authenticated" else "attempted"
        return Authentication(
            three_ds=True,
            eci=row.eci,
            basis=basis,
            evidence={
                "basis": basis,
                "authentication_session_id": row.id,
                "directory_server": row.directory_server,
                "trans_status": row.trans_status,
                "eci": row.eci,
                "transaction_id": row.ds_trans_id,
                "version": row.version,
                "liability_shift": True,
            },
        )
    basis = sca_basis(card, checkout.amount, checkout.currency, rates)
    if basis == "required" and ds is not None:
        raise AuthenticationRequired(
            authentication_metadata(session, checkout.merchant_id, ds, risk_action=risk_action)
        )
    if basis == "required":
        basis = "no_directory_server"
    return Authentication(False, None, basis, {"basis": basis, "liability_shift": False})


__all__ = [
    "ACQUIRER_BINS",
    "LOW_VALUE_EUR",
    "SUCCESS_OUTCOMES",
    "Authentication",
    "AuthenticationRequired",
    "acquirer_details",
    "amount_eur",
    "authentication_metadata",
    "authorise",
    "sca_basis",
]
