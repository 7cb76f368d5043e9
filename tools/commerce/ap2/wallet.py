"""The user's and the shopping agent's side of AP2: keys, mandates and chains.

Not used by the merchant at run time; tests, the ``cockpit shop`` demo and evals use it to act
as the buyer. Two flows:

- **human present**: the user's trusted surface signs closed checkout and payment mandates for
  the cart the merchant signed (each a one-hop chain, ``aud``/``nonce`` = the merchant's
  challenge): :func:`human_present`.
- **human not present**: the user signs open mandates naming the agent's key in ``cnf``
  (:func:`open_checkout`, :func:`open_payment`, built before any cart exists); at purchase
  time the agent closes them with key-binding hops it signs (:func:`close_checkout`,
  :func:`close_payment`), optionally after delegating to a sub-agent (:func:`delegate`).

Disclosure control: concealed parts (``checkout_jwt``, allowed merchants, acceptable items)
are presented only when asked (``reveal_*`` arguments); the mandate object itself is always
disclosed, or the verifier has nothing to check.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from jwcrypto.jwk import JWK

from tools.commerce.ap2.sdjwt import (
    SD,
    SD_ALG,
    TYP_INTERMEDIATE,
    TYP_LEAF,
    TYP_ROOT,
    Hop,
    b64url_decode,
    conceal,
    join_chain,
    new_key,
    public_jwk,
    sign_jwt,
)
from tools.commerce.ap2.wire import (
    VCT_CHECKOUT,
    VCT_CHECKOUT_OPEN,
    VCT_PAYMENT,
    VCT_PAYMENT_OPEN,
)

DEFAULT_TTL = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Party:
    """A user's wallet or an agent: one ES256 key."""

    key: JWK
    kid: str

    @classmethod
    def new(cls, kid: str) -> Party:
        return cls(new_key(kid), kid)

    @property
    def public_jwk(self) -> dict[str, Any]:
        return public_jwk(self.key)

    @property
    def cnf(self) -> dict[str, Any]:
        return {"jwk": self.public_jwk}


Keep = Callable[[Any], bool]
"""Decides, per concealed value, whether to present its disclosure."""


def _present(disclosures: Sequence[str], keep: Keep | None) -> list[str]:
    """Drop the disclosures ``keep`` refuses (the mandate object itself always stays)."""
    if keep is None:
        return list(disclosures)
    out = []
    for text in disclosures:
        parts = json.loads(b64url_decode(text))
        value = parts[-1]
        if (isinstance(value, dict) and "vct" in value) or keep(parts):
            out.append(text)
    return out


def _hop(
    mandate: Mapping[str, Any],
    *,
    signer: Party,
    typ: str,
    at: datetime,
    ttl: timedelta | None,
    aud: str | None,
    nonce: str | None,
    binding: tuple[str, str] | None = None,
    keep: Keep | None = None,
) -> Hop:
    body: dict[str, Any] = {"delegate_payload": [SD(dict(mandate))], "_sd_alg": SD_ALG}
    body["iat"] = int(at.timestamp())
    if ttl is not None:
        body["exp"] = int((at + ttl).timestamp())
    if aud is not None:
        body["aud"] = aud
    if nonce is not None:
        body["nonce"] = nonce
    if binding is not None:
        body[binding[0]] = binding[1]
    claims, disclosures = conceal(body)
    jwt = sign_jwt(claims, signer.key, typ=typ, kid=signer.kid)
    return Hop.of(jwt, _present(disclosures, keep))


def _times(at: datetime, ttl: timedelta) -> dict[str, int]:
    return {"iat": int(at.timestamp()), "exp": int((at + ttl).timestamp())}


# ----- mandate bodies ---------------------------------------------------------------------------


def closed_checkout_mandate(
    checkout_jwt: str, checkout_hash: str, *, at: datetime, ttl: timedelta = DEFAULT_TTL
) -> dict[str, Any]:
    return {
        "vct": VCT_CHECKOUT,
        "checkout_jwt": SD(checkout_jwt),
        "checkout_hash": checkout_hash,
        **_times(at, ttl),
    }


def closed_payment_mandate(
    *,
    transaction_id: str,
    payee: Mapping[str, Any],
    amount: int,
    currency: str,
    instrument: Mapping[str, Any],
    at: datetime,
    ttl: timedelta = DEFAULT_TTL,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "vct": VCT_PAYMENT,
        "transaction_id": transaction_id,
        "payee": dict(payee),
        "payment_amount": {"amount": amount, "currency": currency},
        "payment_instrument": dict(instrument),
        **dict(extra or {}),
        **_times(at, ttl),
    }


def line_items_constraint(
    requirements: Iterable[tuple[str, Sequence[Mapping[str, str]], int]],
) -> dict[str, Any]:
    """``checkout.line_items`` from (requirement id, acceptable items, quantity); each
    acceptable item is concealed (SD array element)."""
    return {
        "type": "checkout.line_items",
        "items": [
            {"id": rid, "acceptable_items": [SD(dict(i)) for i in items], "quantity": qty}
            for rid, items, qty in requirements
        ],
    }


def allowed_merchants_constraint(merchants: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {"type": "checkout.allowed_merchants", "allowed": [SD(dict(m)) for m in merchants]}


def open_checkout_mandate(
    agent: Party, constraints: Sequence[Mapping[str, Any]], *, at: datetime, ttl: timedelta
) -> dict[str, Any]:
    return {
        "vct": VCT_CHECKOUT_OPEN,
        "constraints": [dict(c) for c in constraints],
        "cnf": agent.cnf,
        **_times(at, ttl),
    }


def open_payment_mandate(
    agent: Party,
    constraints: Sequence[Mapping[str, Any]],
    *,
    at: datetime,
    ttl: timedelta,
    presets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "vct": VCT_PAYMENT_OPEN,
        "constraints": [dict(c) for c in constraints],
        "cnf": agent.cnf,
        **dict(presets or {}),
        **_times(at, ttl),
    }


# ----- flows ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Presented:
    """A mandate pair ready to hand to ``complete`` (and the leaves, for tests)."""

    checkout_chain: str
    payment_chain: str

    def instrument(self) -> dict[str, Any]:
        """The ACP ``payment_data.instrument`` for handler ``dev.ap2.mandate``."""
        return {
            "type": "ap2_mandate",
            "credential": {"type": "ap2_mandate_chain", "token": self.payment_chain},
            "checkout_mandate": self.checkout_chain,
        }


def human_present(
    user: Party,
    *,
    merchant: Mapping[str, Any],
    checkout_jwt: str,
    checkout_hash: str,
    amount: int,
    currency: str,
    instrument: Mapping[str, Any],
    at: datetime,
    ttl: timedelta = DEFAULT_TTL,
    reveal_checkout_jwt: bool = True,
) -> Presented:
    """Closed checkout + payment mandates signed by the user for the merchant's signed cart."""
    merchant_id = str(merchant["id"])
    keep: Keep | None = None if reveal_checkout_jwt else (lambda parts: parts[1] != "checkout_jwt")
    checkout = _hop(
        closed_checkout_mandate(checkout_jwt, checkout_hash, at=at, ttl=ttl),
        signer=user,
        typ=TYP_ROOT,
        at=at,
        ttl=ttl,
        aud=merchant_id,
        nonce=checkout_hash,
        keep=keep,
    )
    payment = _hop(
        closed_payment_mandate(
            transaction_id=checkout_hash,
            payee=merchant,
            amount=amount,
            currency=currency,
            instrument=instrument,
            at=at,
            ttl=ttl,
        ),
        signer=user,
        typ=TYP_ROOT,
        at=at,
        ttl=ttl,
        aud=merchant_id,
        nonce=checkout_hash,
    )
    return Presented(join_chain([checkout]), join_chain([payment]))


def open_checkout(
    user: Party,
    agent: Party,
    constraints: Sequence[Mapping[str, Any]],
    *,
    at: datetime,
    ttl: timedelta = timedelta(days=30),
    reveal: Keep | None = None,
) -> Hop:
    """The user's open checkout mandate (root hop) delegating to ``agent``."""
    return _hop(
        open_checkout_mandate(agent, constraints, at=at, ttl=ttl),
        signer=user,
        typ=TYP_ROOT,
        at=at,
        ttl=ttl,
        aud=None,
        nonce=None,
        keep=reveal,
    )


def open_payment(
    user: Party,
    agent: Party,
    constraints: Sequence[Mapping[str, Any]],
    *,
    at: datetime,
    ttl: timedelta = timedelta(days=30),
    presets: Mapping[str, Any] | None = None,
) -> Hop:
    """The user's open payment mandate (root hop) delegating to ``agent``."""
    return _hop(
        open_payment_mandate(agent, constraints, at=at, ttl=ttl, presets=presets),
        signer=user,
        typ=TYP_ROOT,
        at=at,
        ttl=ttl,
        aud=None,
        nonce=None,
    )


Binding = Literal["sd_hash", "issuer_jwt_hash"]


def _bind(prev: Hop, binding: Binding) -> tuple[str, str]:
    return (binding, prev.sd_hash if binding == "sd_hash" else prev.jwt_hash)


def delegate(
    agent: Party,
    prev: Hop,
    mandate: Mapping[str, Any],
    *,
    aud: str,
    nonce: str,
    at: datetime,
    ttl: timedelta = DEFAULT_TTL,
    binding: Binding = "sd_hash",
) -> Hop:
    """An intermediate hop: ``agent`` (the key ``prev`` names) hands an open mandate on."""
    return _hop(
        mandate,
        signer=agent,
        typ=TYP_INTERMEDIATE,
        at=at,
        ttl=ttl,
        aud=aud,
        nonce=nonce,
        binding=_bind(prev, binding),
    )


def close(
    agent: Party,
    prev: Hop,
    mandate: Mapping[str, Any],
    *,
    aud: str,
    nonce: str,
    at: datetime,
    ttl: timedelta = DEFAULT_TTL,
    binding: Binding = "sd_hash",
    typ: str = TYP_LEAF,
    keep: Keep | None = None,
) -> Hop:
    """The closed leaf: ``agent`` signs the closed mandate, bound to ``prev``."""
    return _hop(
        mandate,
        signer=agent,
        typ=typ,
        at=at,
        ttl=ttl,
        aud=aud,
        nonce=nonce,
        binding=_bind(prev, binding),
        keep=keep,
    )


def close_checkout(
    agent: Party,
    chain: Sequence[Hop],
    *,
    merchant_id: str,
    checkout_jwt: str,
    checkout_hash: str,
    at: datetime,
    reveal_checkout_jwt: bool = True,
) -> str:
    """Close an open checkout chain for the merchant's signed cart; the presented chain."""
    keep: Keep | None = None if reveal_checkout_jwt else (lambda parts: parts[1] != "checkout_jwt")
    leaf = close(
        agent,
        chain[-1],
        closed_checkout_mandate(checkout_jwt, checkout_hash, at=at),
        aud=merchant_id,
        nonce=checkout_hash,
        at=at,
        keep=keep,
    )
    return join_chain([*chain, leaf])


def close_payment(
    agent: Party,
    chain: Sequence[Hop],
    *,
    merchant: Mapping[str, Any],
    checkout_hash: str,
    amount: int,
    currency: str,
    instrument: Mapping[str, Any],
    at: datetime,
) -> str:
    """Close an open payment chain for the merchant's signed cart; the presented chain."""
    mandate = closed_payment_mandate(
        transaction_id=checkout_hash,
        payee=merchant,
        amount=amount,
        currency=currency,
        instrument=instrument,
        at=at,
    )
    leaf = close(agent, chain[-1], mandate, aud=str(merchant["id"]), nonce=checkout_hash, at=at)
    return join_chain([*chain, leaf])


def payment_reference(open_checkout_hop: Hop) -> dict[str, Any]:
    """``payment.reference`` naming an open checkout mandate (b64url hash of its JWT)."""
    return {"type": "payment.reference", "conditional_transaction_id": open_checkout_hop.jwt_hash}


__all__ = [
    "DEFAULT_TTL",
    "Party",
    "Presented",
    "allowed_merchants_constraint",
    "close",
    "close_checkout",
    "close_payment",
    "closed_checkout_mandate",
    "closed_payment_mandate",
    "delegate",
    "human_present",
    "line_items_constraint",
    "open_checkout",
    "open_checkout_mandate",
    "open_payment",
    "open_payment_mandate",
    "payment_reference",
]
