"""Onboarding an agent platform to a Cockpit tenant, as its operator would.

With a tenant admin (or merchant) key: mint a shopper key bound to one merchant
(``POST /v1/keys``), make an ES256 signing key, and register the platform behind the shopper
key (``POST /v1/commerce/platforms``: public JWK, webhook base URL) — the answer carries the
webhook secret, shown once. :class:`Enrollment` is what the platform keeps afterwards (a
private key and two secrets: store it 0600). :func:`point_webhook` moves the webhook when the
receiver's port changes between runs.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from cockpit.tls import client_context

PLATFORMS_PATH = "/v1/commerce/platforms"
TRUST_PATH = "/v1/commerce/ap2/trusted_keys"
"""Where an operator puts an AP2 mandate issuer's key (a user's wallet) on the trust list."""


@dataclass(frozen=True, slots=True)
class Enrollment:
    """A platform's credentials for one merchant of one Cockpit server."""

    url: str
    merchant_id: str
    key_id: str
    api_key: str
    """The shopper key (bearer token of every ACP request)."""
    platform_id: str
    signing_jwk: dict[str, Any]
    """Private EC P-256 JWK (``d`` included): never sent anywhere."""
    webhook_secret: str
    webhook_url: str | None
    feed_id: str | None = None
    """The product feed the merchant shared with this platform."""

    def public_jwk(self) -> dict[str, Any]:
        return {k: v for k, v in self.signing_jwk.items() if k != "d"}


def resolve_merchant(
    url: str, admin_key: str, wanted: str, *, transport: httpx.BaseTransport | None = None
) -> tuple[str, str]:
    """``(merchant id, settlement currency)`` for ``wanted``: an id, or a short key (``de``,
    ``mer_demo_de``) matched by its last part (seeded demo ids carry the seed:
    ``mer_9b3515_de``)."""
    with httpx.Client(
        base_url=url, timeout=15.0, transport=transport, verify=client_context()
    ) as http:
        listed = _raise_for(
            http.get("/v1/payments/merchants", headers={"x-api-key": admin_key}),
            "listing the merchants",
        )
    currency = {
        str(m.get("merchantId")): str(m.get("settlementCurrency") or "")
        for m in listed.get("data") or []
    }
    if wanted in currency:
        return wanted, currency[wanted]
    short = wanted.rsplit("_", 1)[-1]
    matches = sorted(i for i in currency if i.rsplit("_", 1)[-1] == short)
    if len(matches) != 1:
        raise RuntimeError(f"no single merchant matches {wanted!r} (have {', '.join(currency)})")
    return matches[0], currency[matches[0]]


def new_signing_jwk() -> dict[str, Any]:
    """A fresh ES256 key pair as a JWK dict (private)."""
    from jwcrypto import jwk

    key = jwk.JWK.generate(kty="EC", crv="P-256")
    private: dict[str, Any] = json.loads(key.export_private())
    private.update({"alg": "ES256", "use": "sig", "kid": key.thumbprint()})
    return private


def _raise_for(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 400:
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:300]}")
    body: dict[str, Any] = response.json()
    return body


def onboard(
    url: str,
    admin_key: str,
    merchant_id: str,
    *,
    webhook_url: str | None,
    name: str = "Cockpit reference shopper",
    sign: bool = True,
    transport: httpx.BaseTransport | None = None,
) -> Enrollment:
    """Mint a merchant-bound shopper key and register its platform (signing key, webhook)."""
    with httpx.Client(
        base_url=url, timeout=15.0, transport=transport, verify=client_context()
    ) as http:
        headers = {"x-api-key": admin_key}
        key = _raise_for(
            http.post(
                "/v1/keys",
                json={"role": "shopper", "name": name, "merchant_id": merchant_id},
                headers=headers,
            ),
            "creating the shopper key",
        )
        private = new_signing_jwk()
        body: dict[str, Any] = {"key_id": key["id"], "name": name, "webhook_url": webhook_url}
        if sign:
            body["signing_jwk"] = {k: v for k, v in private.items() if k != "d"}
        platform = _raise_for(
            http.post(PLATFORMS_PATH, json=body, headers=headers), "registering the platform"
        )
        feed_id = share_feed(http, admin_key, merchant_id)
    return Enrollment(
        url=url.rstrip("/"),
        merchant_id=merchant_id,
        key_id=str(key["id"]),
        api_key=str(key["key"]),
        platform_id=str(platform["id"]),
        signing_jwk=private if sign else {},
        webhook_secret=str(platform["webhook_secret"]),
        webhook_url=webhook_url,
        feed_id=feed_id,
    )


def share_feed(http: httpx.Client, admin_key: str, merchant_id: str) -> str:
    """The merchant creates a feed for the platform (ACP feeds flow merchant → platform) and
    tells it the id; done with a merchant key minted for this and nothing else."""
    import uuid

    merchant_key = _raise_for(
        http.post(
            "/v1/keys",
            json={
                "role": "merchant",
                "name": "feed for an agent platform",
                "merchant_id": merchant_id,
            },
            headers={"x-api-key": admin_key},
        ),
        "creating the merchant's feed key",
    )
    feed = _raise_for(
        http.post(
            "/acp/feeds",
            json={},
            headers={
                "Authorization": f"Bearer {merchant_key['key']}",
                "Idempotency-Key": str(uuid.uuid4()),
                "API-Version": "2026-04-17",
            },
        ),
        "creating the feed",
    )
    return str(feed["id"])


def point_webhook(
    enrollment: Enrollment,
    admin_key: str,
    webhook_url: str,
    *,
    transport: httpx.BaseTransport | None = None,
) -> Enrollment:
    """Move the platform's webhook to ``webhook_url`` (a new receiver port)."""
    from dataclasses import replace

    with httpx.Client(
        base_url=enrollment.url, timeout=15.0, transport=transport, verify=client_context()
    ) as http:
        _raise_for(
            http.patch(
                f"{PLATFORMS_PATH}/{enrollment.platform_id}",
                json={"webhook_url": webhook_url},
                headers={"x-api-key": admin_key},
            ),
            "moving the webhook",
        )
    return replace(enrollment, webhook_url=webhook_url)


def trust_issuer(
    url: str,
    admin_key: str,
    jwk: dict[str, Any],
    *,
    label: str,
    transport: httpx.BaseTransport | None = None,
) -> str:
    """Put an AP2 root issuer's public key (a user's wallet) on the tenant's trust list."""
    with httpx.Client(
        base_url=url, timeout=15.0, transport=transport, verify=client_context()
    ) as http:
        body = _raise_for(
            http.post(
                TRUST_PATH, json={"jwk": jwk, "label": label}, headers={"x-api-key": admin_key}
            ),
            "trusting the wallet key",
        )
    return str(body.get("id", ""))


def save_json(data: Any, path: Path) -> None:
    """Write JSON readable by its owner only (enrollments and wallets hold private keys)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
    tmp.replace(path)


def save(enrollment: Enrollment, path: Path) -> None:
    save_json(asdict(enrollment), path)


def load(path: Path) -> Enrollment | None:
    if not path.exists():
        return None
    try:
        return Enrollment(**json.loads(path.read_text(encoding="utf-8")))
    except (TypeError, ValueError):
        return None


__all__ = [
    "PLATFORMS_PATH",
    "Enrollment",
    "load",
    "new_signing_jwk",
    "onboard",
    "point_webhook",
    "resolve_merchant",
    "save",
]
