"""The shopping agent's side of 3-D Secure: delegate authentication at the PSP, then the ACP
``authentication_result`` to complete the checkout with.

When a complete answers ``authentication_required`` (with ``authentication_metadata``), the agent
runs the PSP's delegate authentication for the delegated token it pays with
(``payment_method.number`` = the ``spt_…`` token: the card number never leaves the vault):
create → report the 3DS Method (fingerprint) result → authenticate → answer a challenge at
the ACS if one is asked for → retrieve the result, and maps it to ACP's outcome:

=====================  ==========================
PSP status             ACP ``outcome``
=====================  ==========================
``authenticated``      ``authenticated`` (+ details)
``attempted``          ``attempt_acknowledged`` (+ details)
``not_authenticated``  ``denied``
``rejected``           ``rejected``
``challenge_abandoned``  ``abandoned``
``not_supported``      ``not_supported``
``expired``            ``abandoned``
other                  ``processing_error``
=====================  ==========================

This is a protocol agent without a browser: it reports the 3DS Method as completed and, for
a challenge, posts the EMV ``CReq`` itself with the sandbox cardholder's one-time code
(:data:`tools.commerce.threeds.acs.SANDBOX_OTP`); a real agent would show the ACS page to the
buyer. Each step is noted in the transcript (never the card number or the cryptogram).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tools.commerce.shopper.client import AcpClient

SANDBOX_OTP = "123456"
"""The sandbox ACS's cardholder code (``tools.commerce.threeds.acs.SANDBOX_OTP``)."""
OUTCOMES = {
    "authenticated": "authenticated",
    "attempted": "attempt_acknowledged",
    "not_authenticated": "denied",
    "rejected": "rejected",
    "challenge_abandoned": "abandoned",
    "not_supported": "not_supported",
    "expired": "abandoned",
}
Note = Callable[[str, bool, str, dict[str, Any]], None]


class CardDetails(Protocol):
    @property
    def exp_month(self) -> str: ...
    @property
    def exp_year(self) -> str: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Cardholder:
    """How the (simulated) buyer answers an ACS challenge."""

    otp: str = SANDBOX_OTP
    cancel: bool = False
    fingerprint: str = "Y"
    """What the agent reports of the 3DS Method: ``Y`` done, ``N`` timed out, ``U`` unavailable."""


def _b64url(value: Mapping[str, Any]) -> str:
    raw = json.dumps(dict(value), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64url(text: str) -> dict[str, Any]:
    out = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    return out if isinstance(out, dict) else {}


def create_request(
    checkout: Mapping[str, Any], *, merchant_id: str, token: str, card: CardDetails
) -> dict[str, Any]:
    """The ``DelegateAuthenticationCreateRequest`` for this checkout's metadata and token."""
    meta = checkout.get("authentication_metadata") or {}
    total = next(
        (int(t["amount"]) for t in checkout.get("totals") or [] if t["type"] == "total"), 0
    )
    body: dict[str, Any] = {
        "merchant_id": merchant_id,
        "payment_method": {
            "type": "card",
            "number": token,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "name": card.name,
        },
        "amount": {"value": total, "currency": str(checkout.get("currency", "")).upper()},
        "checkout_session_id": str(checkout["id"]),
    }
    if meta.get("acquirer_details"):
        body["acquirer_details"] = dict(meta["acquirer_details"])
    preference = meta.get("flow_preference") or {}
    if preference.get("type") == "challenge":
        body["flow_preference"] = {
            "type": "challenge",
            **({"challenge": dict(preference["challenge"])} if preference.get("challenge") else {}),
        }
    elif preference.get("type") == "frictionless":
        body["flow_preference"] = {"type": "frictionless"}
    return body


def authentication_result(session: Mapping[str, Any]) -> dict[str, Any]:
    """The ACP ``AuthenticationResult`` of a retrieved delegate-authentication session."""
    outcome = OUTCOMES.get(str(session.get("status")), "processing_error")
    out: dict[str, Any] = {"outcome": outcome}
    result = session.get("authentication_result") or {}
    if outcome in ("authenticated", "attempt_acknowledged"):
        out["outcome_details"] = {
            "three_ds_cryptogram": result.get("three_ds_cryptogram"),
            "electronic_commerce_indicator": result.get("electronic_commerce_indicator"),
            "transaction_id": result.get("transaction_id"),
            "version": result.get("version"),
        }
    return out


def run_3ds(
    client: AcpClient,
    checkout: Mapping[str, Any],
    *,
    merchant_id: str,
    token: str,
    card: CardDetails,
    note: Note,
    cardholder: Cardholder | None = None,
) -> dict[str, Any]:
    """Authenticate ``token``'s card for ``checkout``; the ACP ``authentication_result``."""
    who = cardholder or Cardholder()
    meta = checkout.get("authentication_metadata") or {}
    session = client.create_authentication(
        create_request(checkout, merchant_id=merchant_id, token=token, card=card)
    )
    auth_id = str(session["authentication_session_id"])
    note(
        "3ds_create",
        session.get("status") != "not_supported",
        f"3-D Secure via the {meta.get('directory_server')} directory server: session "
        f"{auth_id} {session.get('status')}",
        {"authentication_session_id": auth_id, "status": session.get("status")},
    )
    if session.get("status") in ("action_required", "pending"):
        fingerprint = who.fingerprint if session.get("status") == "action_required" else "U"
        session = client.authenticate(
            auth_id, {"fingerprint_completion": fingerprint, "checkout_session_id": checkout["id"]}
        )
        action = session.get("action") or {}
        note(
            "3ds_authenticate",
            True,
            f"3DS Method {fingerprint}; the issuer answered {session.get('status')}"
            + (" with a challenge" if action.get("type") == "challenge" else ""),
            {"status": session.get("status")},
        )
        if action.get("type") == "challenge":
            challenge = action["challenge"]
            creq: dict[str, Any] = {
                "threeDSServerTransID": challenge["three_ds_server_trans_id"],
                "acsTransID": challenge["acs_trans_id"],
                "messageType": "CReq",
                "messageVersion": challenge["message_version"],
                "challengeWindowSize": "05",
            }
            if who.cancel:
                creq["challengeCancel"] = "01"
            else:
                creq["challengeDataEntry"] = who.otp
            cres = _unb64url(str(client.acs_challenge(challenge["acs_url"], _b64url(creq))["cres"]))
            note(
                "3ds_challenge",
                cres.get("transStatus") == "Y",
                "the buyer "
                + ("canceled the challenge" if who.cancel else "entered the one-time code")
                + f"; the ACS answered transStatus {cres.get('transStatus')}",
                {"trans_status": cres.get("transStatus")},
            )
    final = client.get_authentication(auth_id)
    result = authentication_result(final)
    details = result.get("outcome_details") or {}
    note(
        "3ds_result",
        result["outcome"] in ("authenticated", "attempt_acknowledged"),
        f"3-D Secure {final.get('status')} → outcome {result['outcome']}"
        + (f", ECI {details.get('electronic_commerce_indicator')}" if details else ""),
        {"outcome": result["outcome"], "eci": details.get("electronic_commerce_indicator")},
    )
    return result


__all__ = [
    "OUTCOMES",
    "SANDBOX_OTP",
    "Cardholder",
    "authentication_result",
    "create_request",
    "run_3ds",
]
