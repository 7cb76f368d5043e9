"""An ACP 2026-04-17 client: what an agent platform sends to a merchant (and to its PSP).

``AcpClient`` speaks the REST binding over httpx: discovery (``/.well-known/acp.json``), feeds,
checkout sessions (create / get / update / complete / cancel), delegated payment, and the AP2
``checkout_jwt`` the merchant signs for a session. Every request carries ``API-Version`` and a
``Request-Id``; every POST an ``Idempotency-Key`` (one uuid4 per *logical* operation, reused on
every retry of it, so a retry can never buy twice); with a signing key, ``Signature`` +
``Timestamp`` over the JCS form of the body. An ACP ``Error`` answer becomes
:class:`AcpRequestError` carrying its ``type`` / ``code`` / ``param``.

Errors::

    ShopperError
    ├── AcpRequestError    the server answered an ACP Error (4xx/5xx)
    └── AcpTransportError  no usable answer (connection refused, timeouts, not JSON)

It never logs or keeps card numbers: :class:`Exchange` records (the transcript, schema tests)
hold the request body minus ``payment_method.number`` / ``cvc``.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from cockpit.clock import utcnow

API_VERSION = "2026-04-17"
DISCOVERY_PATH = "/.well-known/acp.json"
_SECRET_FIELDS = frozenset(
    {"number", "cvc", "cryptogram", "three_ds_cryptogram", "authentication_value"}
)


class ShopperError(Exception):
    """Base of what the shopping agent's client raises."""


class AcpRequestError(ShopperError):
    """The server answered with an ACP ``Error`` (or another non-2xx body)."""

    def __init__(self, status: int, body: Mapping[str, Any], headers: Mapping[str, str]) -> None:
        self.status = status
        self.body = dict(body)
        self.headers = dict(headers)
        self.type = str(body.get("type") or "processing_error")
        self.code = str(body.get("code") or f"http_{status}")
        self.param = body.get("param")
        super().__init__(f"{status} {self.type}/{self.code}: {body.get('message', '')}")


class AcpTransportError(ShopperError):
    """No usable answer: the connection failed, timed out, or the body was not JSON."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its answer, as sent and received (card secrets removed)."""

    operation: str
    """``discover``, ``create_checkout``, ``delegate_payment``…"""
    method: str
    path: str
    request_headers: dict[str, str]
    request: Any
    status: int
    response: Any
    response_headers: dict[str, str]


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("[redacted]" if k in _SECRET_FIELDS else _redacted(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def rfc3339(at: datetime) -> str:
    """``2026-11-25T12:00:00Z``: UTC to the second (a naive instant is taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


Signer = Callable[[Any, str], str]
"""``(body or None, timestamp) -> Signature`` header value."""


def es256_signer(private_jwk: Mapping[str, Any]) -> Signer:
    """Sign as ACP asks: base64url of raw ES256 ``r || s`` over ``"<Timestamp>.<JCS(body)>"``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    from jwcrypto import jwk

    from tools.commerce.acp.signatures import signing_input

    key = jwk.JWK(**dict(private_jwk)).get_op_key("sign")
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("an ES256 (EC P-256) private key is needed")

    def sign(body: Any, timestamp: str) -> str:
        der = key.sign(signing_input(timestamp, body), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return sign


@dataclass
class AcpClient:
    """A merchant's ACP surface as an agent platform sees it (one shopper key)."""

    url: str
    """The merchant server's origin (``http://127.0.0.1:8321``); discovery says the API base."""
    api_key: str
    """The platform's bearer token for this merchant (a merchant-bound shopper key)."""
    signer: Signer | None = None
    """Signs requests (``Signature``/``Timestamp``) when the platform registered a key."""
    api_version: str = API_VERSION
    clock: Callable[[], datetime] = utcnow
    retries: int = 2
    """Extra attempts after a transport failure, a 5xx or ``idempotency_in_flight``."""
    timeout_s: float = 15.0
    transport: httpx.BaseTransport | None = None
    on_exchange: Callable[[Exchange], None] | None = None
    accept_language: str | None = None
    api_base: str | None = None
    """``api_base_url`` from discovery (default ``<url>/acp`` until :meth:`discover` runs)."""
    exchanges: list[Exchange] = field(default_factory=list)
    _http: httpx.Client | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        self._http = httpx.Client(timeout=self.timeout_s, transport=self.transport)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> AcpClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- discovery and catalogue -------------------------------------------------------------

    def discover(self) -> dict[str, Any]:
        """``GET /.well-known/acp.json`` (public); remembers ``api_base_url``."""
        doc = self._call("discover", "GET", self.url + DISCOVERY_PATH, None, auth=False)
        base = doc.get("api_base_url")
        if isinstance(base, str) and base:
            self.api_base = base.rstrip("/")
        return doc

    def feed(self, feed_id: str) -> dict[str, Any]:
        return self._call("get_feed", "GET", self._api(f"/feeds/{feed_id}"), None)

    def products(self, feed_id: str) -> dict[str, Any]:
        return self._call("get_feed_products", "GET", self._api(f"/feeds/{feed_id}/products"), None)

    # -- checkout sessions -------------------------------------------------------------------

    def create_checkout(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("create_checkout", "POST", self._api("/checkout_sessions"), payload)

    def get_checkout(self, session_id: str) -> dict[str, Any]:
        return self._call(
            "get_checkout", "GET", self._api(f"/checkout_sessions/{session_id}"), None
        )

    def update_checkout(self, session_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        path = self._api(f"/checkout_sessions/{session_id}")
        return self._call("update_checkout", "POST", path, payload)

    def complete_checkout(self, session_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        path = self._api(f"/checkout_sessions/{session_id}/complete")
        return self._call("complete_checkout", "POST", path, payload)

    def cancel_checkout(
        self, session_id: str, payload: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        path = self._api(f"/checkout_sessions/{session_id}/cancel")
        return self._call("cancel_checkout", "POST", path, dict(payload or {}))

    # -- payment credentials -----------------------------------------------------------------

    def delegate_payment(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /agentic_commerce/delegate_payment`` at the PSP (Cockpit's vault)."""
        path = self._api("/agentic_commerce/delegate_payment")
        return self._call("delegate_payment", "POST", path, payload)

    def create_authentication(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /delegate_authentication`` at the PSP: start 3-D Secure for a token."""
        path = self._api("/delegate_authentication")
        return self._call("create_authentication", "POST", path, payload)

    def authenticate(self, auth_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /delegate_authentication/{id}/authenticate`` (the 3DS Method result)."""
        path = self._api(f"/delegate_authentication/{auth_id}/authenticate")
        return self._call("authenticate", "POST", path, payload)

    def get_authentication(self, auth_id: str) -> dict[str, Any]:
        """``GET /delegate_authentication/{id}``: the state and, once final, the result."""
        path = self._api(f"/delegate_authentication/{auth_id}")
        return self._call("get_authentication", "GET", path, None)

    def acs_challenge(self, acs_url: str, creq: str) -> dict[str, Any]:
        """Post an EMV 3DS ``CReq`` (base64url) to the issuer ACS's ``acs_url``; its ``CRes``."""
        return self._call("acs_challenge", "POST", acs_url, {"creq": creq})

    def checkout_jwt(self, session_id: str) -> dict[str, Any]:
        """The merchant-signed AP2 ``checkout_jwt`` of a session (``{"checkout_jwt": …}``)."""
        path = self._api(f"/checkout_sessions/{session_id}/ap2/checkout_jwt")
        return self._call("checkout_jwt", "GET", path, None)

    # -- the wire ----------------------------------------------------------------------------

    def _api(self, path: str) -> str:
        return (self.api_base or self.url + "/acp") + path

    def _headers(self, body: Any, *, auth: bool, idempotency_key: str | None) -> dict[str, str]:
        headers = {"API-Version": self.api_version, "Request-Id": f"req_{uuid.uuid4().hex}"}
        if auth:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        if self.accept_language:
            headers["Accept-Language"] = self.accept_language
        if auth and self.signer is not None:
            stamp = rfc3339(self.clock())
            headers["Timestamp"] = stamp
            headers["Signature"] = self.signer(body, stamp)
        return headers

    def _call(
        self, operation: str, method: str, url: str, body: Any, *, auth: bool = True
    ) -> dict[str, Any]:
        """Send with bounded retries; the same ``Idempotency-Key`` on every attempt."""
        assert self._http is not None
        key = str(uuid.uuid4()) if method == "POST" else None
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        last: ShopperError | None = None
        for attempt in range(self.retries + 1):
            headers = self._headers(body, auth=auth, idempotency_key=key)
            if content is not None:
                headers["Content-Type"] = "application/json"
            try:
                response = self._http.request(method, url, headers=headers, content=content)
            except httpx.HTTPError as exc:
                last = AcpTransportError(f"{method} {url}: {type(exc).__name__}: {exc}")
                time.sleep(min(0.2 * 2**attempt, 2.0))
                continue
            try:
                answer: Any = response.json() if response.content else {}
            except ValueError:
                answer = {"message": response.text[:300]}
            self._record(operation, method, url, headers, body, response, answer)
            if response.is_success:
                if not isinstance(answer, dict):
                    raise AcpTransportError(f"{method} {url}: the answer is not a JSON object")
                return answer
            error = AcpRequestError(
                response.status_code,
                answer if isinstance(answer, dict) else {"message": str(answer)},
                dict(response.headers),
            )
            retryable = response.status_code >= 500 or error.code == "idempotency_in_flight"
            if not retryable or attempt == self.retries:
                raise error
            last = error
            wait = response.headers.get("Retry-After")
            time.sleep(min(float(wait) if wait and wait.isdigit() else 0.2 * 2**attempt, 2.0))
        assert last is not None
        raise last

    def _record(
        self,
        operation: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: Any,
        response: httpx.Response,
        answer: Any,
    ) -> None:
        shown = {k: ("Bearer …" if k == "Authorization" else v) for k, v in headers.items()}
        exchange = Exchange(
            operation=operation,
            method=method,
            path=httpx.URL(url).path,
            request_headers=shown,
            request=_redacted(body),
            status=response.status_code,
            response=answer,
            response_headers=dict(response.headers),
        )
        self.exchanges.append(exchange)
        if self.on_exchange is not None:
            self.on_exchange(exchange)


__all__ = [
    "API_VERSION",
    "AcpClient",
    "AcpRequestError",
    "AcpTransportError",
    "Exchange",
    "ShopperError",
    "Signer",
    "es256_signer",
    "rfc3339",
]
