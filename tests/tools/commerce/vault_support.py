"""A vault test world: the real app on one backend, a tenant with merchants, agent keys.

Used by the vault, redeem, handler and risk tests. Requests are built from the official
``examples.delegate_payment.json`` request, re-pointed at a merchant of the tenant.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cockpit.db.session import Database
from cockpit.tenancy.principal import Principal, Role
from tests.support.apptest import Api, running_app
from tests.tools.commerce.specs import acp_examples
from tools.commerce.ports import Checkout
from tools.commerce.vault.models import AgentCharge, VaultToken
from tools.payments.models import Card, LedgerEntry, Merchant, Payment

TENANT = "vault_t"
MERCHANT = "mer_vault_sg"
OTHER_MERCHANT = "mer_vault_other"
AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
"""The tests' instant (the suite clock's start)."""
VISA = "4242424242424242"
MASTERCARD = "5555555555554444"
KEY = b"k" * 32
"""The vault's HMAC key in service-level tests."""


@dataclass
class World:
    api: Api
    db: Database
    services: Any
    shopper: str
    """Secret of a shopper key bound to MERCHANT."""
    shopper_id: str
    shopper2: str
    """Another agent platform's key, bound to MERCHANT too."""
    shopper2_id: str
    merchant_key: str
    admin_key: str
    backend: str

    def principal(self, key_id: str | None = None, *, merchant: str | None = MERCHANT) -> Principal:
        return Principal(TENANT, Role.SHOPPER, key_id or self.shopper_id, merchant_id=merchant)


def _merchant(db: Database, merchant_id: str, *, currency: str, country: str) -> None:
    with db.tenant_session(TENANT) as s:
        s.add(
            Merchant(
                id=merchant_id,
                name=f"Vault test {merchant_id}",
                legal_name=f"Vault test {merchant_id} Pte Ltd",
                country=country,
                mcc="5732",
                markets=[country],
                settlement_currency=currency,
                kyb_state="APPROVED",
                webhook_secret="s",
            )
        )


@contextmanager
def vault_world(tmp: Path, url: str | None) -> Iterator[World]:
    with running_app(tmp, url) as api:
        svc = api.client.app.state.services
        svc.keys.ensure_tenant(TENANT)
        _merchant(svc.db, MERCHANT, currency="SGD", country="SG")
        _merchant(svc.db, OTHER_MERCHANT, currency="SGD", country="SG")
        _merchant(svc.db, "acme_store", currency="USD", country="US")
        shopper = svc.keys.create_key(TENANT, Role.SHOPPER, merchant_id=MERCHANT)
        shopper2 = svc.keys.create_key(TENANT, Role.SHOPPER, merchant_id=MERCHANT)
        merchant_key = svc.keys.create_key(TENANT, Role.MERCHANT, merchant_id=MERCHANT)
        admin = svc.keys.create_key(TENANT, Role.ADMIN)
        yield World(
            api=api,
            db=svc.db,
            services=svc,
            shopper=shopper.secret,
            shopper_id=shopper.id,
            shopper2=shopper2.secret,
            shopper2_id=shopper2.id,
            merchant_key=merchant_key.secret,
            admin_key=admin.secret,
            backend="sqlite" if url is None else "postgres",
        )


def example_request() -> dict[str, Any]:
    """The official example request, unchanged."""
    return copy.deepcopy(acp_examples("delegate_payment")["delegate_payment_request"])


def delegate_body(
    *,
    session_id: str = "csn_1",
    max_amount: int = 50_000,
    currency: str = "sgd",
    merchant_id: str = MERCHANT,
    expires_at: datetime = AT + timedelta(hours=1),
    number: str = VISA,
    **card: Any,
) -> dict[str, Any]:
    """The example request re-pointed at a merchant of the test tenant."""
    body = example_request()
    pm = body["payment_method"]
    pm["number"] = number
    pm["iin"] = number[:6]
    pm["display_last4"] = number[-4:]
    pm["display_brand"] = "visa" if number.startswith("4") else "mastercard"
    pm["exp_year"] = "2028"
    pm.update(card)
    body["allowance"].update(
        max_amount=max_amount,
        currency=currency,
        merchant_id=merchant_id,
        checkout_session_id=session_id,
        expires_at=expires_at.isoformat().replace("+00:00", "Z"),
    )
    body["billing_address"]["country"] = "SG"
    # The example's own signal asks for manual review; a clean card says authorized.
    body["risk_signals"] = [{"type": "card_testing", "score": 5, "action": "authorized"}]
    return body


def headers(key: str, idem: str | None, **extra: str) -> dict[str, str]:
    out = {"Authorization": f"Bearer {key}", "API-Version": "2026-04-17", "Request-Id": "req_1"}
    if idem is not None:
        out["Idempotency-Key"] = idem
    out.update(extra)
    return out


def checkout(
    session_id: str = "csn_1",
    *,
    amount: int = 12_000,
    currency: str = "SGD",
    key_id: str = "k_test",
    platform_id: str | None = None,
    merchant_id: str = MERCHANT,
) -> Checkout:
    """A hand-built checkout as the checkout service hands it to a payment handler."""
    return Checkout(
        tenant_id=TENANT,
        merchant_id=merchant_id,
        session_id=session_id,
        key_id=key_id,
        platform_id=platform_id,
        amount=amount,
        currency=currency,
        line_items=({"id": "li_1", "item": {"id": "item_1"}, "quantity": 1},),
        snapshot={"id": session_id, "currency": currency.lower()},
    )


@dataclass(frozen=True)
class Counts:
    payments: int
    ledger: int
    used_tokens: int
    charges: int


def counts(s: Session) -> Counts:
    def n(stmt: Any) -> int:
        return int(s.scalar(stmt) or 0)

    return Counts(
        payments=n(select(func.count()).select_from(Payment)),
        ledger=n(select(func.count()).select_from(LedgerEntry)),
        used_tokens=n(
            select(func.count()).select_from(VaultToken).where(VaultToken.status == "used")
        ),
        charges=n(select(func.count()).select_from(AgentCharge)),
    )


def token_row(s: Session, token_id: str) -> VaultToken:
    row = s.get(VaultToken, token_id)
    assert row is not None
    return row


__all__ = [
    "AT",
    "KEY",
    "MASTERCARD",
    "MERCHANT",
    "OTHER_MERCHANT",
    "TENANT",
    "VISA",
    "Card",
    "Counts",
    "World",
    "checkout",
    "counts",
    "delegate_body",
    "example_request",
    "headers",
    "token_row",
    "vault_world",
]
