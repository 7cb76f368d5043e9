"""Shared fixtures of the commerce tests: a running app with a shop tenant.

``acp_world`` (module-scoped, on SQLite and PostgreSQL through ``module_database_url``) is the
real app with a tenant :data:`SHOP_TENANT` holding two KYB-approved merchants
(:data:`MERCHANT` and :data:`OTHER_MERCHANT`, electronics, SGD) whose catalogues are seeded
with :func:`tools.commerce.acp.catalog.seed_catalogue`, API keys of every kind (see
:class:`AcpWorld`), and :class:`FakeHandler` registered as payment handler
:data:`FAKE_HANDLER` (the instrument token picks the outcome). Other parts' tests may import
:class:`AcpWorld`, :func:`acp_headers` and the constants, or request ``acp_world``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from cockpit.db.session import Database
from cockpit.tenancy.principal import Principal, Role
from tests.support.apptest import Api, running_app
from tests.support.merchants import add_merchant
from tools.commerce.acp.catalog import seed_catalogue
from tools.commerce.acp.wire import API_VERSION
from tools.commerce.ports import HANDLERS_KEY, Charge, Checkout
from tools.payments.gateway import Gateway, PayRequest
from tools.payments.models import Card
from tools.payments.simulator import AuthDecision, IssuerSimulator

SHOP_TENANT = "shop_t"
MERCHANT = "mer_shop_sg"
OTHER_MERCHANT = "mer_shop_other"
FAKE_HANDLER = "test.fake.card"
"""``payment_data.handler_id`` of :class:`FakeHandler`."""
SEEDED_AT = datetime.fromisoformat("2026-11-25T12:00:00+00:00")


def instrument(token: str = "tok_ok") -> dict[str, Any]:
    """A card instrument for :class:`FakeHandler`: ``tok_decline…`` declines, ``tok_review…``
    holds for review, ``tok_bad…`` raises an ACP error, anything else is captured."""
    return {"type": "card", "credential": {"type": "spt", "token": token}}


FAKE_CARD = "card_fake_visa"
"""The card every :class:`FakeHandler` payment is made with (created on first use)."""


class _Approves(IssuerSimulator):
    def decide(self, ctx: Any) -> AuthDecision:
        return AuthDecision(approved=True)


def _approved_payment(
    gateway: Gateway,
    session: Session,
    checkout: Checkout,
    request_key: str,
    *,
    capture: str,
    at: datetime,
) -> str:
    """A real gateway payment of the checkout's total (an issuer that approves everything),
    so orders, ledgers and dispute evidence see the same rows a real handler leaves."""
    if session.get(Card, FAKE_CARD) is None:
        session.add(
            Card(
                id=FAKE_CARD,
                brand="VISA",
                bin="424242",
                last4="4242",
                funding="CREDIT",
                issuer="Test Bank",
                issuing_country="SG",
                exp_month=12,
                exp_year=2031,
            )
        )
        session.flush()
    view = gateway.pay_in(
        session,
        PayRequest(
            checkout.merchant_id,
            f"fake_{request_key}"[:64],
            checkout.amount,
            checkout.currency.upper(),
            card_id=FAKE_CARD,
            capture_mode=capture,
        ),
        at=at,
    )
    return str(view["paymentId"])


@dataclass
class FakeHandler:
    """A payment handler for tests: records every charge call (thread-safe) and pays through
    the real gateway with a test card and an issuer that approves everything."""

    id: str = FAKE_HANDLER
    calls: list[tuple[str, int, str, str]] = field(default_factory=list)
    """``(session_id, amount, currency, request_key)`` per call."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay_s: float = 0.0
    """Sleep inside the charge (to widen race windows)."""
    gateway: Gateway | None = None
    """Pays with an issuer that approves everything (set by ``acp_world``)."""

    def descriptor(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": "dev.acp.tokenized.card",
            "display_name": "Test card",
            "version": "2026-01-22",
            "spec": "https://acp.dev/handlers/tokenized.card",
            "requires_delegate_payment": True,
            "requires_pci_compliance": False,
            "psp": "test",
            "config_schema": "https://acp.dev/schemas/handlers/tokenized.card/config.json",
            "instrument_schemas": [
                "https://acp.dev/schemas/handlers/tokenized.card/instrument.json"
            ],
            "config": {"environment": "test"},
            "display_order": 9,
        }

    def charge(
        self,
        session: Session,
        checkout: Checkout,
        payment_data: Mapping[str, Any],
        *,
        at: datetime,
        request_key: str,
    ) -> Charge:
        from tools.commerce.errors import AcpError

        if self.delay_s:
            threading.Event().wait(self.delay_s)
        token = str(payment_data["instrument"]["credential"]["token"])
        with self.lock:
            self.calls.append(
                (checkout.session_id, checkout.amount, checkout.currency, request_key)
            )
        if token.startswith("tok_bad"):
            raise AcpError("the token is not usable", code="invalid_card", param="$.payment_data")
        if token.startswith("tok_decline"):
            return Charge("declined", None, "Your card was declined.", decline_code="05")
        status = "review" if token.startswith("tok_review") else "captured"
        assert self.gateway is not None, "FakeHandler.gateway is set by the acp_world fixture"
        payment_id = _approved_payment(
            self.gateway,
            session,
            checkout,
            request_key,
            capture="MANUAL" if status == "review" else "AUTOMATIC",
            at=at,
        )
        return Charge(status, payment_id, "ok", evidence={"token": token})

    def calls_for(self, session_id: str) -> int:
        with self.lock:
            return sum(1 for c in self.calls if c[0] == session_id)


@dataclass
class AcpWorld:
    api: Api
    db: Database
    services: Any
    backend: str
    keys: dict[str, str]
    """Secrets: ``shopper`` and ``shopper2`` (two platforms' keys bound to MERCHANT),
    ``shopper_other`` (bound to OTHER_MERCHANT), ``shopper_unbound``, ``merchant`` (bound to
    MERCHANT), ``merchant_other``, ``admin`` (tenant-wide)."""
    principals: dict[str, Principal]
    handler: FakeHandler

    @property
    def client(self) -> Any:
        return self.api.client

    def session(self) -> Any:
        """A tenant session on the shop tenant (context manager)."""
        return self.db.tenant_session(SHOP_TENANT)


def acp_headers(
    key: str,
    *,
    idem: str | None = "auto",
    version: str | None = API_VERSION,
    request_id: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """ACP request headers: Bearer key, ``API-Version``, an ``Idempotency-Key`` (a fresh UUID
    for ``"auto"``, none for None) and optional ``Request-Id``."""
    h = {"Authorization": f"Bearer {key}", **extra}
    if version is not None:
        h["API-Version"] = version
    if idem == "auto":
        h["Idempotency-Key"] = str(uuid.uuid4())
    elif idem is not None:
        h["Idempotency-Key"] = idem
    if request_id is not None:
        h["Request-Id"] = request_id
    return h


@pytest.fixture(scope="module")
def acp_world(
    module_database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AcpWorld]:
    backend = "sqlite" if module_database_url is None else "postgres"
    tmp = tmp_path_factory.mktemp(f"acp-{backend}")
    with running_app(tmp, module_database_url) as api:
        svc = api.client.app.state.services  # type: ignore[attr-defined]
        svc.keys.ensure_tenant(SHOP_TENANT, name="shop")
        add_merchant(svc.db, SHOP_TENANT, MERCHANT)
        add_merchant(svc.db, SHOP_TENANT, OTHER_MERCHANT)
        with svc.db.tenant_session(SHOP_TENANT) as s:
            seed_catalogue(s, MERCHANT, at=SEEDED_AT)
            seed_catalogue(s, OTHER_MERCHANT, at=SEEDED_AT)
        handler = FakeHandler(gateway=Gateway(svc.db, simulator=_Approves()))
        svc.extras.setdefault(HANDLERS_KEY, {})[handler.id] = handler
        issued = {
            "shopper": svc.keys.create_key(SHOP_TENANT, Role.SHOPPER, merchant_id=MERCHANT),
            "shopper2": svc.keys.create_key(SHOP_TENANT, Role.SHOPPER, merchant_id=MERCHANT),
            "shopper_other": svc.keys.create_key(
                SHOP_TENANT, Role.SHOPPER, merchant_id=OTHER_MERCHANT
            ),
            "shopper_unbound": svc.keys.create_key(SHOP_TENANT, Role.SHOPPER),
            "merchant": svc.keys.create_key(SHOP_TENANT, Role.MERCHANT, merchant_id=MERCHANT),
            "merchant_other": svc.keys.create_key(
                SHOP_TENANT, Role.MERCHANT, merchant_id=OTHER_MERCHANT
            ),
            "admin": svc.keys.create_key(SHOP_TENANT, Role.ADMIN),
        }
        yield AcpWorld(
            api=api,
            db=svc.db,
            services=svc,
            backend=backend,
            keys={k: v.secret for k, v in issued.items()},
            principals={k: svc.keys.authenticate(v.secret) for k, v in issued.items()},
            handler=handler,
        )


__all__ = [
    "FAKE_HANDLER",
    "MERCHANT",
    "OTHER_MERCHANT",
    "SHOP_TENANT",
    "AcpWorld",
    "FakeHandler",
    "acp_headers",
    "instrument",
]
