"""SD-JWT (selective disclosure) and AP2 delegation chains, small enough to read in one go.

An SD-JWT is an ES256-signed JWT whose payload holds digests (``_sd`` for object properties,
``{"...": digest}`` for array elements) instead of the concealed values; the values travel
beside it as *disclosures* (base64url JSON ``[salt, name, value]`` or ``[salt, value]``). AP2
chains several such tokens ("hops") with ``~~``: the root is signed by a trusted issuer (the
user's wallet or the agent provider), every later hop by the key the previous hop named in its
``cnf.jwk``, and binds the previous hop by ``sd_hash`` (its JWT and disclosures) or
``issuer_jwt_hash`` (its JWT only).

This module knows nothing of mandates: it signs, splits, verifies signatures, checks hop
bindings and turns digests back into claims. It never reads the clock and never trusts a
header's ``jwk``: the caller says which key must have signed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jwcrypto.common import JWException
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS

SD_ALG = "sha-256"
"""The only ``_sd_alg`` we issue; verification also accepts sha-384 / sha-512."""
ALG = "ES256"
TYP_ROOT = "dc+sd-jwt"
"""Header ``typ`` of a root mandate token (SD-JWT VC); ``vc+sd-jwt`` is accepted too."""
ROOT_TYPS = frozenset({"dc+sd-jwt", "vc+sd-jwt"})
TYP_INTERMEDIATE = "kb+sd-jwt+kb"
"""A key-binding hop that delegates on (carries a ``cnf``)."""
TYP_LEAF = "kb+sd-jwt"
"""The closing key-binding hop (no ``cnf``)."""

_HASHES: dict[str, Callable[[bytes], Any]] = {
    "sha-256": hashlib.sha256,
    "sha-384": hashlib.sha384,
    "sha-512": hashlib.sha512,
}


class SdJwtError(ValueError):
    """The token is malformed or does not verify (the presenter's fault)."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise SdJwtError("not base64url") from exc


def digest(text: str, alg: str | None = SD_ALG) -> str:
    """base64url(hash(ASCII text)): disclosure digests, ``sd_hash``, checkout hashes."""
    fn = _HASHES.get(alg or SD_ALG)
    if fn is None:
        raise SdJwtError(f"unsupported _sd_alg {alg!r}")
    return b64url(fn(text.encode("ascii")).digest())


# ----- issuing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SD:
    """Marks a value to conceal: a dict value becomes an ``_sd`` digest, a list element an
    ``{"...": digest}`` entry. Nest freely (a concealed object may hold concealed parts)."""

    value: Any


def _disclosure(parts: list[Any]) -> str:
    text = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return b64url(text.encode("utf-8"))


def conceal(obj: Any, *, alg: str = SD_ALG) -> tuple[Any, list[str]]:
    """Replace every :class:`SD` in ``obj`` by digests; returns (claims, disclosures)."""
    out: list[str] = []

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            claims: dict[str, Any] = {}
            sd: list[str] = []
            for key, item in value.items():
                if isinstance(item, SD):
                    disclosure = _disclosure([_salt(), key, walk(item.value)])
                    out.append(disclosure)
                    sd.append(digest(disclosure, alg))
                else:
                    claims[key] = walk(item)
            if sd:
                claims["_sd"] = sorted(sd)
            return claims
        if isinstance(value, list | tuple):
            items: list[Any] = []
            for item in value:
                if isinstance(item, SD):
                    disclosure = _disclosure([_salt(), walk(item.value)])
                    out.append(disclosure)
                    items.append({"...": digest(disclosure, alg)})
                else:
                    items.append(walk(item))
            return items
        if isinstance(value, SD):
            raise SdJwtError("a top-level value cannot be concealed")
        return value

    return walk(obj), out


def _salt() -> str:
    return b64url(secrets.token_bytes(16))


def sign_jwt(payload: Mapping[str, Any], key: JWK, *, typ: str, kid: str | None = None) -> str:
    """Compact ES256 JWS over ``payload`` (JSON, no whitespace)."""
    header: dict[str, Any] = {"alg": ALG, "typ": typ}
    if kid:
        header["kid"] = kid
    body = json.dumps(dict(payload), ensure_ascii=False, separators=(",", ":"))
    jws = JWS(body.encode("utf-8"))
    jws.add_signature(key, alg=ALG, protected=json.dumps(header, separators=(",", ":")))
    return str(jws.serialize(compact=True))


def verify_jwt(compact: str, key: JWK) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of a compact JWS that ``key`` signed with ES256; else SdJwtError."""
    header, payload = peek(compact)
    if header.get("alg") != ALG:
        raise SdJwtError(f"alg must be {ALG}, got {header.get('alg')!r}")
    try:
        jws = JWS()
        jws.deserialize(compact)
        jws.verify(key, alg=ALG)
    except (JWException, ValueError, TypeError) as exc:
        raise SdJwtError("bad signature") from exc
    return header, payload


def peek(compact: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Decode a compact JWT's header and payload WITHOUT checking the signature."""
    parts = compact.split(".")
    if len(parts) != 3 or not all(parts):
        raise SdJwtError("a JWT has three dot-separated parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SdJwtError("JWT header or payload is not JSON") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise SdJwtError("JWT header and payload are JSON objects")
    return header, payload


# ----- hops and chains -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hop:
    """One SD-JWT of a chain: its issuer-signed JWT and the disclosures presented with it."""

    jwt: str
    disclosures: tuple[str, ...] = ()
    header: dict[str, Any] = field(default_factory=dict, compare=False)
    payload: dict[str, Any] = field(default_factory=dict, compare=False)
    """Decoded but NOT yet verified (see :func:`verify_hop_signature`)."""

    @classmethod
    def of(cls, jwt: str, disclosures: Sequence[str] = ()) -> Hop:
        header, payload = peek(jwt)
        return cls(jwt, tuple(disclosures), header, payload)

    @property
    def sd_alg(self) -> str:
        alg = self.payload.get("_sd_alg", SD_ALG)
        return alg if isinstance(alg, str) else SD_ALG

    @property
    def sd_jwt(self) -> str:
        """The hop in SD-JWT form (``jwt~d1~…~``): what ``sd_hash`` binds."""
        return "".join(f"{part}~" for part in (self.jwt, *self.disclosures))

    @property
    def sd_hash(self) -> str:
        return digest(self.sd_jwt, self.sd_alg)

    @property
    def jwt_hash(self) -> str:
        """Hash of the signed JWT alone: ``issuer_jwt_hash``, replay keys, receipt references."""
        return digest(self.jwt, self.sd_alg)


def join_chain(hops: Sequence[Hop]) -> str:
    """``<jwt>~<disclosures>~~<jwt>~<disclosures>~…~``."""
    return "~~".join("~".join((hop.jwt, *hop.disclosures)) for hop in hops) + "~"


def split_chain(text: str) -> list[Hop]:
    """Parse a ``~~``-joined chain (a lone SD-JWT ``jwt~d~`` is a chain of one)."""
    if not isinstance(text, str) or not text.strip():
        raise SdJwtError("empty mandate")
    body = text.strip()
    if body.endswith("~") and not body.endswith("~~"):
        body = body[:-1]
    hops = []
    for part in body.split("~~"):
        pieces = part.split("~")
        if not pieces[0] or any(not p for p in pieces[1:]):
            raise SdJwtError("empty JWT or disclosure segment in the chain")
        hops.append(Hop.of(pieces[0], pieces[1:]))
    return hops


def cnf_key(claims: Mapping[str, Any]) -> JWK:
    """The holder key a token names (``cnf.jwk``): an EC P-256 public key."""
    cnf = claims.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, Mapping) else None
    if not isinstance(jwk, Mapping):
        raise SdJwtError("no cnf.jwk to verify the next hop with")
    return public_key(jwk)


def public_key(jwk: Mapping[str, Any]) -> JWK:
    """An EC P-256 public JWK (private parts refused: a key to verify with, never to sign)."""
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk:
        raise SdJwtError("keys are EC P-256 public JWKs")
    try:
        return JWK(**{k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y", "kid")})
    except (JWException, ValueError, TypeError) as exc:
        raise SdJwtError("not a valid EC public key") from exc


def public_jwk(key: JWK) -> dict[str, Any]:
    """The public half of ``key`` as the AP2 ``types/jwk.json`` object."""
    exported: dict[str, Any] = key.export_public(as_dict=True)
    out = {k: exported[k] for k in ("kty", "crv", "x", "y")}
    out["alg"] = ALG
    out["use"] = "sig"
    if exported.get("kid"):
        out["kid"] = exported["kid"]
    return out


def new_key(kid: str | None = None) -> JWK:
    """A fresh P-256 signing key."""
    key = JWK.generate(kty="EC", crv="P-256")
    if kid:
        key = JWK(**{**key.export(as_dict=True), "kid": kid})
    return key


# ----- disclosures back into claims -------------------------------------------------------------


def reveal(claims: Any, disclosures: Sequence[str], *, alg: str = SD_ALG) -> Any:
    """Claims with every digest replaced by its disclosed value; undisclosed object digests and
    array entries are dropped. Each disclosure must be used exactly once."""
    by_digest: dict[str, list[Any]] = {}
    for text in disclosures:
        try:
            parts = json.loads(b64url_decode(text))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SdJwtError("a disclosure is not JSON") from exc
        if not isinstance(parts, list) or len(parts) not in (2, 3) or not isinstance(parts[0], str):
            raise SdJwtError("a disclosure is [salt, value] or [salt, name, value]")
        key = digest(text, alg)
        if key in by_digest:
            raise SdJwtError("a disclosure is presented twice")
        by_digest[key] = parts
    used: set[str] = set()

    def take(key: Any) -> list[Any] | None:
        if not isinstance(key, str) or key not in by_digest:
            return None
        if key in used:
            raise SdJwtError("a digest appears twice in the token")
        used.add(key)
        return by_digest[key]

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            out = {k: walk(v) for k, v in value.items() if k not in ("_sd", "_sd_alg")}
            for key in value.get("_sd", []) or []:
                parts = take(key)
                if parts is None:
                    continue
                if len(parts) != 3 or not isinstance(parts[1], str):
                    raise SdJwtError("an object digest needs a [salt, name, value] disclosure")
                name = parts[1]
                if name in out or name in ("_sd", "..."):
                    raise SdJwtError(f"disclosed claim {name!r} clashes with a plain claim")
                out[name] = walk(parts[2])
            return out
        if isinstance(value, list):
            items = []
            for item in value:
                if isinstance(item, dict) and set(item) == {"..."}:
                    parts = take(item["..."])
                    if parts is None:
                        continue
                    if len(parts) != 2:
                        raise SdJwtError("an array digest needs a [salt, value] disclosure")
                    items.append(walk(parts[1]))
                else:
                    items.append(walk(item))
            return items
        return value

    result = walk(claims)
    if used != set(by_digest):
        raise SdJwtError("a disclosure matches no digest in the token")
    return result


__all__ = [
    "ALG",
    "ROOT_TYPS",
    "SD",
    "SD_ALG",
    "TYP_INTERMEDIATE",
    "TYP_LEAF",
    "TYP_ROOT",
    "Hop",
    "SdJwtError",
    "b64url",
    "b64url_decode",
    "cnf_key",
    "conceal",
    "digest",
    "join_chain",
    "new_key",
    "peek",
    "public_jwk",
    "public_key",
    "reveal",
    "sign_jwt",
    "split_chain",
    "verify_jwt",
]
