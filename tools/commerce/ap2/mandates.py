"""AP2 v0.2 mandate verification, verifier side (DOMAIN §10b steps 1–7), in plain code.

A mandate chain is ``root~~hop~~…~~leaf``: the root is signed by a key on the tenant's trust
list, each later hop by the ``cnf.jwk`` of the mandate before it, and the leaf holds the
closed mandate. Every hop's payload carries the mandate as the one element of
``delegate_payload`` (concealed; its disclosure travels with the hop).

What we check, in order, and the code a failure gets:

1. root signature against the trust list — ``invalid_credential``;
2. each later hop: signature by the previous mandate's ``cnf.jwk``, ``typ`` (intermediate
   ``kb+sd-jwt+kb`` vs leaf ``kb+sd-jwt``, the leaf without ``cnf``), exactly one of
   ``sd_hash`` / ``issuer_jwt_hash`` matching the previous hop, ``iat`` / ``exp`` on hop and
   mandate — ``invalid_credential``;
3. ``aud`` and ``nonce`` against OUR challenge on every hop that carries them (required on
   key-binding hops and on the leaf) — ``invalid_credential``;
4. disclosure digests, the exact ``vct`` per position, the schema (:mod:`.wire`) —
   ``invalid_credential``;
5. open → closed consistency: claims an open mandate fixes stay unchanged — ``invalid_mandate``;
6. checkout: ``checkout_hash`` recomputed over the checkout JWT **we** issued and stored for
   this session (never the one the agent sends), our own signature on it re-verified;
   payment: ``transaction_id`` equals that hash, payee / amount / currency match the stored
   checkout — ``invalid_mandate``;
7. every constraint of every open mandate (:mod:`.constraints`).

Steps 8 (stateful limits, replay) and 9 (receipts) need the database and the merchant key:
:mod:`.handler` does them in the checkout's transaction.

Challenge: ``aud`` is the merchant id; ``nonce`` is the ``checkout_hash`` we returned with the
checkout JWT (fresh per signature: ECDSA is randomised), so a key-binding proof is good for one
signed cart at one merchant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jwcrypto.jwk import JWK
from pydantic import ValidationError

from tools.commerce.ap2 import constraints as rules
from tools.commerce.ap2.errors import MandateRejected
from tools.commerce.ap2.sdjwt import (
    ROOT_TYPS,
    TYP_INTERMEDIATE,
    TYP_LEAF,
    Hop,
    SdJwtError,
    cnf_key,
    digest,
    peek,
    public_key,
    reveal,
    split_chain,
    verify_jwt,
)
from tools.commerce.ap2.wire import (
    MODELS,
    PRESET_PAYMENT_CLAIMS,
    VCT_CHECKOUT,
    VCT_CHECKOUT_OPEN,
    VCT_PAYMENT,
    VCT_PAYMENT_OPEN,
    CheckoutMandate,
    OpenCheckoutMandate,
    OpenPaymentMandate,
    PaymentMandate,
)

SKEW = timedelta(seconds=60)
"""Clock skew allowed on ``iat`` (issued "in the future"); ``exp`` is strict."""


@dataclass(frozen=True, slots=True)
class Challenge:
    """What every hop's ``aud`` / ``nonce`` must say."""

    aud: str
    nonces: frozenset[str]
    """Acceptable nonces (the checkout hashes issued for this session); all hops of one chain
    must carry the same one."""


@dataclass(frozen=True, slots=True)
class VerifiedHop:
    hop: Hop
    claims: dict[str, Any]
    """The hop's payload with disclosures resolved (binding claims, aud, nonce, …)."""
    mandate: dict[str, Any]
    """The disclosed mandate claims (what dispute evidence shows)."""
    model: Any
    """The validated :mod:`.wire` model of ``mandate``."""

    @property
    def hash(self) -> str:
        """b64url hash of this hop's signed JWT (replay key, receipt reference, mandate id)."""
        return self.hop.jwt_hash


@dataclass(frozen=True, slots=True)
class VerifiedChain:
    hops: tuple[VerifiedHop, ...]

    @property
    def leaf(self) -> VerifiedHop:
        return self.hops[-1]

    @property
    def opens(self) -> tuple[VerifiedHop, ...]:
        """The open mandates before the closed leaf (empty: human present)."""
        return self.hops[:-1]

    @property
    def nonce(self) -> str:
        return str(self.leaf.claims["nonce"])

    def evidence(self) -> list[dict[str, Any]]:
        return [
            {"typ": h.hop.header.get("typ"), "hash": h.hash, "mandate": h.mandate}
            for h in self.hops
        ]


def _bad(message: str) -> MandateRejected:
    return MandateRejected("invalid_credential", message)


def verify_chain(
    text: str,
    *,
    trusted: Sequence[Mapping[str, Any]],
    challenge: Challenge,
    closed_vct: str,
    open_vct: str,
    at: datetime,
) -> VerifiedChain:
    """Steps 1–4 for one chain whose leaf must be ``closed_vct`` and other hops ``open_vct``."""
    try:
        hops = split_chain(text)
    except SdJwtError as exc:
        raise _bad(f"malformed mandate: {exc}") from exc
    done: list[VerifiedHop] = []
    for index, hop in enumerate(hops):
        last = index == len(hops) - 1
        try:
            if index == 0:
                header, payload = _verify_root(hop, trusted)
            else:
                prev = done[-1]
                header, payload = verify_jwt(hop.jwt, cnf_key(prev.mandate))
                _check_binding(payload, prev.hop)
            claims = reveal(payload, hop.disclosures, alg=hop.sd_alg)
        except SdJwtError as exc:
            raise _bad(f"hop {index}: {exc}") from exc
        _check_typ(index, last, header)
        mandate = _mandate(index, claims)
        _check_time(index, claims, mandate, at)
        _check_challenge(index, claims, challenge, required=index > 0 or last)
        model = _model(index, mandate, closed_vct if last else open_vct)
        if last and "cnf" in mandate:
            raise _bad("the closed mandate must not delegate further (cnf)")
        done.append(VerifiedHop(hop, claims, mandate, model))
    nonces = {str(h.claims["nonce"]) for h in done if "nonce" in h.claims}
    if len(nonces) != 1:
        raise _bad("every hop of a chain answers the same challenge nonce")
    return VerifiedChain(tuple(done))


def _verify_root(hop: Hop, trusted: Sequence[Mapping[str, Any]]) -> tuple[dict, dict]:  # type: ignore[type-arg]
    header, _ = peek(hop.jwt)
    if header.get("typ") not in ROOT_TYPS:
        raise SdJwtError(f"root typ must be one of {sorted(ROOT_TYPS)}")
    kid = header.get("kid")
    candidates = [k for k in trusted if not kid or not k.get("kid") or k.get("kid") == kid]
    for jwk in candidates:
        try:
            return verify_jwt(hop.jwt, public_key(jwk))
        except SdJwtError:
            continue
    raise SdJwtError("root mandate is not signed by a trusted key")


def _check_binding(payload: Mapping[str, Any], prev: Hop) -> None:
    has_sd, has_iss = "sd_hash" in payload, "issuer_jwt_hash" in payload
    if has_sd == has_iss:
        raise SdJwtError("a key-binding hop carries exactly one of sd_hash / issuer_jwt_hash")
    if has_sd and payload["sd_hash"] != prev.sd_hash:
        raise SdJwtError("sd_hash does not bind the previous hop")
    if has_iss and payload["issuer_jwt_hash"] != prev.jwt_hash:
        raise SdJwtError("issuer_jwt_hash does not bind the previous hop")


def _check_typ(index: int, last: bool, header: Mapping[str, Any]) -> None:
    if index == 0:
        return  # checked with the trust list
    want = TYP_LEAF if last else TYP_INTERMEDIATE
    if header.get("typ") != want:
        raise _bad(f"hop {index}: typ must be {want!r}, got {header.get('typ')!r}")


def _mandate(index: int, claims: Mapping[str, Any]) -> dict[str, Any]:
    items = claims.get("delegate_payload")
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise _bad(f"hop {index}: delegate_payload must disclose exactly one mandate")
    return dict(items[0])


def _check_time(
    index: int, claims: Mapping[str, Any], mandate: Mapping[str, Any], at: datetime
) -> None:
    now = at.timestamp()
    if index > 0 and not isinstance(claims.get("iat"), int):
        raise _bad(f"hop {index}: a key-binding hop needs iat")
    for source in (claims, mandate):
        iat, exp = source.get("iat"), source.get("exp")
        if iat is not None and (not isinstance(iat, int) or iat > now + SKEW.total_seconds()):
            raise _bad(f"hop {index}: issued in the future")
        if exp is not None and (not isinstance(exp, int) or exp <= now):
            raise _bad(f"hop {index}: expired")


def _check_challenge(
    index: int, claims: Mapping[str, Any], challenge: Challenge, *, required: bool
) -> None:
    aud, nonce = claims.get("aud"), claims.get("nonce")
    if required and (aud is None or nonce is None):
        raise _bad(f"hop {index}: aud and nonce are required")
    if aud is not None and aud != challenge.aud:
        raise _bad(f"hop {index}: aud {aud!r} is not {challenge.aud!r}")
    if nonce is not None and nonce not in challenge.nonces:
        raise _bad(f"hop {index}: nonce is not a challenge we issued")


def _model(index: int, mandate: Mapping[str, Any], vct: str) -> Any:
    if mandate.get("vct") != vct:
        raise _bad(f"hop {index}: vct must be exactly {vct!r}, got {mandate.get('vct')!r}")
    try:
        return MODELS[vct].model_validate(dict(mandate))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _bad(f"hop {index}: {vct} {where}: {first['msg']}") from exc


# ----- checkout -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckoutCheck:
    chain: VerifiedChain
    checkout_jwt: str
    """Our stored, merchant-signed checkout JWT this mandate binds."""
    checkout_hash: str
    checkout: dict[str, Any]
    """Its verified payload."""

    @property
    def open_hashes(self) -> tuple[str, ...]:
        return tuple(h.hash for h in self.chain.opens)


def verify_checkout_mandate(
    text: str,
    *,
    trusted: Sequence[Mapping[str, Any]],
    merchant_id: str,
    issued: Mapping[str, str],
    merchant_key: JWK,
    current: Mapping[str, Any],
    lines: Sequence[rules.CartLine],
    at: datetime,
) -> CheckoutCheck:
    """Steps 1–7 for a checkout mandate chain.

    ``issued`` maps checkout hash → checkout JWT for every JWT we signed for this session;
    ``current`` is the merchant's stored checkout now (what will be charged), ``lines`` its
    (item id, quantity) pairs.
    """
    challenge = Challenge(aud=merchant_id, nonces=frozenset(issued))
    chain = verify_chain(
        text,
        trusted=trusted,
        challenge=challenge,
        closed_vct=VCT_CHECKOUT,
        open_vct=VCT_CHECKOUT_OPEN,
        at=at,
    )
    closed: CheckoutMandate = chain.leaf.model
    ours = issued.get(chain.nonce)
    if ours is None:  # unreachable: the nonce was checked against issued
        raise _bad("no checkout JWT was issued for this challenge")
    expected = digest(ours, chain.leaf.hop.sd_alg)
    if closed.checkout_hash != expected:
        raise MandateRejected(
            "invalid_mandate", "checkout_hash is not the hash of the checkout we signed"
        )
    if closed.checkout_jwt is not None and closed.checkout_jwt != ours:
        raise MandateRejected("invalid_mandate", "checkout_jwt is not the checkout we signed")
    try:
        _, payload = verify_jwt(ours, merchant_key)
    except SdJwtError as exc:
        raise MandateRejected("invalid_mandate", "our checkout signature does not verify") from exc
    if binding_view(payload) != binding_view(current):
        raise MandateRejected(
            "invalid_mandate", "the checkout changed after it was signed; ask for a new one"
        )
    for hop in chain.opens:
        opened: OpenCheckoutMandate = hop.model
        rules.check_checkout(opened.constraints, merchant_id=merchant_id, lines=lines)
    return CheckoutCheck(chain, ours, chain.nonce, payload)


BINDING_FIELDS = ("id", "currency", "line_items", "totals")
"""The parts of a checkout a mandate binds: a change to any needs a new signature."""


def binding_view(checkout: Mapping[str, Any]) -> dict[str, Any]:
    return {name: checkout.get(name) for name in BINDING_FIELDS}


# ----- payment ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentCheck:
    chain: VerifiedChain

    @property
    def closed(self) -> PaymentMandate:
        model: PaymentMandate = self.chain.leaf.model
        return model

    @property
    def stateful_opens(self) -> tuple[VerifiedHop, ...]:
        """Open mandates whose approval must be counted (budget / recurrence)."""
        return tuple(h for h in self.chain.opens if rules.is_stateful(h.model.constraints))


def verify_payment_mandate(
    text: str,
    *,
    trusted: Sequence[Mapping[str, Any]],
    merchant_id: str,
    checkout: CheckoutCheck,
    amount: int,
    currency: str,
    usage_of: Callable[[str], rules.Usage],
    at: datetime,
) -> PaymentCheck:
    """Steps 1–7 for a payment mandate chain bound to an already verified checkout.

    ``usage_of(open_mandate_hash)`` loads (and locks) an open mandate's usage for budget and
    recurrence; the caller adds the approved amount after the payment succeeds.
    """
    challenge = Challenge(aud=merchant_id, nonces=frozenset({checkout.checkout_hash}))
    chain = verify_chain(
        text,
        trusted=trusted,
        challenge=challenge,
        closed_vct=VCT_PAYMENT,
        open_vct=VCT_PAYMENT_OPEN,
        at=at,
    )
    closed: PaymentMandate = chain.leaf.model
    _check_presets(chain)
    if closed.transaction_id != digest(checkout.checkout_jwt, chain.leaf.hop.sd_alg):
        raise MandateRejected("invalid_mandate", "transaction_id is not this checkout's hash")
    if closed.payee.id != merchant_id:
        raise MandateRejected("invalid_mandate", f"payee {closed.payee.id} is not this merchant")
    if closed.payment_amount.currency.upper() != currency.upper():
        raise MandateRejected("invalid_mandate", "payment currency is not the checkout's")
    if closed.payment_amount.amount != amount:
        raise MandateRejected(
            "invalid_mandate",
            f"payment amount {closed.payment_amount.amount} is not the checkout total {amount}",
        )
    for hop in chain.opens:
        opened: OpenPaymentMandate = hop.model
        rules.check_payment(
            opened.constraints,
            closed,
            open_checkout_hashes=checkout.open_hashes,
            usage=usage_of(hop.hash) if rules.is_stateful(opened.constraints) else rules.Usage(),
            at=at,
        )
    return PaymentCheck(chain)


def _check_presets(chain: VerifiedChain) -> None:
    """Step 5: a claim an open mandate fixes is repeated unchanged by every later mandate."""
    for i, hop in enumerate(chain.opens):
        for name in PRESET_PAYMENT_CLAIMS:
            fixed = hop.mandate.get(name)
            if fixed is None:
                continue
            for later in chain.hops[i + 1 :]:
                if later.mandate.get(name) != fixed and (
                    later is chain.leaf or name in later.mandate
                ):
                    raise MandateRejected(
                        "invalid_mandate", f"{name} differs from the open mandate's"
                    )


__all__ = [
    "BINDING_FIELDS",
    "Challenge",
    "CheckoutCheck",
    "PaymentCheck",
    "VerifiedChain",
    "VerifiedHop",
    "binding_view",
    "verify_chain",
    "verify_checkout_mandate",
    "verify_payment_mandate",
]
