"""The simulated directory server and issuer ACS: deterministic 3-D Secure 2.2 outcomes.

What the sandbox does (documented behaviour, not a model of any real issuer):

* **Enrolment.** Visa, Mastercard and American Express cards are enrolled (those are ACP's
  directory servers); other brands answer ``not_supported`` at create.
* **3DS Method (fingerprint).** Visa and Mastercard ask for it (``action_required`` +
  ``fingerprint``); American Express does not (``pending``). The agent reports the result
  as ``fingerprint_completion`` (``Y`` done, ``N`` timed out, ``U`` unavailable).
* **Authentication (AReq).** ``U`` → the directory server stands in for an unreachable ACS:
  an *attempt* (``trans_status A``, ECI 06 / Mastercard 01). A challenge when the device data
  is missing (``N``), when a challenge is preferred or mandated (the agent's or the seller's
  ``flow_preference``), or above :data:`CHALLENGE_ABOVE_EUR`. Otherwise **frictionless**:
  ``trans_status Y``, ECI 05 / Mastercard 02.
* **Challenge.** An OTP challenge: the cardholder's browser posts an EMV 3DS ``CReq`` to the
  ACS with ``challengeDataEntry``. The sandbox cardholder's code is :data:`SANDBOX_OTP`
  (like card networks' test ACSs); another code → ``N`` (reason 01, not authenticated);
  ``challengeCancel`` → ``U`` (``challenge_abandoned``).

Cryptograms are 20 random bytes, base64 (28 characters), as CAVV/AAV are; the seller never
takes one on trust, it compares it with the row this PSP stored.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Literal

CHALLENGE_ABOVE_EUR = 250.0
"""The sandbox ACS challenges every authentication above this amount (EUR equivalent)."""
SANDBOX_OTP = "123456"
"""The one-time code the sandbox cardholder receives for every challenge."""
VERSION = "2.2.0"
DIRECTORY_SERVERS = {"VISA": "visa", "MASTERCARD": "mastercard", "AMEX": "american_express"}
"""Our card brand → ACP ``directory_server``; brands not listed are not enrolled."""

Route = Literal["frictionless", "attempt", "challenge"]


def directory_server(brand: str) -> str | None:
    return DIRECTORY_SERVERS.get(brand.upper())


def wants_fingerprint(ds: str) -> bool:
    """Whether this directory server's ACSs run the 3DS Method (device fingerprint)."""
    return ds in ("visa", "mastercard")


def route(*, completion: str, amount_eur: float, preference: str | None) -> Route:
    """How the ACS answers the AReq (see the module doc)."""
    if completion == "U":
        return "attempt"
    if completion == "N" or preference == "challenge" or amount_eur > CHALLENGE_ABOVE_EUR:
        return "challenge"
    return "frictionless"


@dataclass(frozen=True, slots=True)
class Result:
    """The final ACS answer (EMV 3DS ``transStatus`` and what goes with it)."""

    status: str
    """Delegate-authentication status: ``authenticated``, ``attempted``, ``not_authenticated``,
    ``challenge_abandoned``."""
    trans_status: str
    reason: str | None = None
    eci: str | None = None
    cryptogram: str | None = None


def _cryptogram() -> str:
    return base64.b64encode(secrets.token_bytes(20)).decode()


def eci_for(ds: str, trans_status: str) -> str | None:
    """ECI by directory server: authenticated 05/02, attempted 06/01, failed 07/00."""
    mastercard = ds == "mastercard"
    return {
        "Y": "02" if mastercard else "05",
        "A": "01" if mastercard else "06",
        "N": "00" if mastercard else "07",
    }.get(trans_status)


def authenticated(ds: str) -> Result:
    return Result("authenticated", "Y", eci=eci_for(ds, "Y"), cryptogram=_cryptogram())


def attempted(ds: str) -> Result:
    return Result("attempted", "A", eci=eci_for(ds, "A"), cryptogram=_cryptogram())


def challenge_answer(ds: str, *, entry: str | None, cancel: str | None) -> Result:
    """The ACS's verdict on a challenge (``CReq``)."""
    if cancel is not None:
        return Result("challenge_abandoned", "U")
    if entry is not None and secrets.compare_digest(entry, SANDBOX_OTP):
        return authenticated(ds)
    return Result("not_authenticated", "N", reason="01", eci=eci_for(ds, "N"))


__all__ = [
    "CHALLENGE_ABOVE_EUR",
    "DIRECTORY_SERVERS",
    "SANDBOX_OTP",
    "VERSION",
    "Result",
    "attempted",
    "authenticated",
    "challenge_answer",
    "directory_server",
    "eci_for",
    "route",
    "wants_fingerprint",
]
