"""Redeeming a vault token under DOMAIN §10a's allowance rules — a table, then a race.

Every refusal leaves the token active and moves nothing (no payment, no ledger entry); of two
concurrent redemptions of one token exactly one wins. SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.support.concurrency import released_together
from tests.tools.commerce.vault_support import (
    AT,
    KEY,
    MERCHANT,
    OTHER_MERCHANT,
    TENANT,
    World,
    counts,
    delegate_body,
    token_row,
    vault_world,
)
from tools.commerce.errors import AcpError
from tools.commerce.vault import service
from tools.commerce.vault.service import VaultCard, delegate, redeem
from tools.payments.tx import run_tx

EXPIRES = AT + timedelta(hours=1)


@pytest.fixture(scope="module")
def world(
    module_database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    backend = "sqlite" if module_database_url is None else "postgres"
    with vault_world(tmp_path_factory.mktemp(f"redeem-{backend}"), module_database_url) as w:
        yield w


_n = iter(range(10_000))


def _token(w: World, *, session_id: str = "csn_r", max_amount: int = 10_000) -> str:
    idem = f"redeem-{next(_n)}"
    body = delegate_body(session_id=session_id, max_amount=max_amount, expires_at=EXPIRES)
    return delegate(
        w.db, w.principal(), idempotency_key=idem, payload=body, key=KEY, at=AT
    ).token_id


def _redeem(w: World, token: str, **over: Any) -> VaultCard:
    args: dict[str, Any] = {
        "merchant_id": MERCHANT,
        "checkout_session_id": "csn_r",
        "amount": 10_000,
        "currency": "SGD",
        "at": AT + timedelta(minutes=5),
    }
    args.update(over)
    return run_tx(w.db, TENANT, lambda s: redeem(s, token, **args))


CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("exactly the allowance", {}, None),
    ("less than the allowance", {"amount": 1}, None),
    ("lowercase currency", {"currency": "sgd"}, None),
    ("one minor unit over", {"amount": 10_001}, service.TOKEN_AMOUNT),
    ("zero", {"amount": 0}, service.TOKEN_AMOUNT),
    ("other currency", {"currency": "USD"}, service.TOKEN_CURRENCY),
    ("other merchant", {"merchant_id": OTHER_MERCHANT}, service.TOKEN_MERCHANT),
    ("other checkout session", {"checkout_session_id": "csn_x"}, service.TOKEN_SESSION),
    ("at expires_at", {"at": EXPIRES}, service.TOKEN_EXPIRED),
    ("after expires_at", {"at": EXPIRES + timedelta(seconds=1)}, service.TOKEN_EXPIRED),
    ("a microsecond before expires_at", {"at": EXPIRES - timedelta(microseconds=1)}, None),
]


@pytest.mark.parametrize(("case", "change", "code"), CASES, ids=[c[0] for c in CASES])
def test_redeem_rules(world: World, case: str, change: dict[str, Any], code: str | None) -> None:
    token = _token(world)
    with world.db.tenant_session(TENANT) as s:
        before = counts(s)
    if code is None:
        card = _redeem(world, token, **change)
        assert (card.token_id, card.last4, card.brand) == (token, "4242", "visa")
        assert card.allowance["max_amount"] == 10_000
        with world.db.tenant_session(TENANT) as s:
            row = token_row(s, token)
            assert row.status == "used" and row.used_at is not None
            assert counts(s).used_tokens == before.used_tokens + 1
        return
    with pytest.raises(AcpError) as err:
        _redeem(world, token, **change)
    assert err.value.code == code and err.value.status == 422
    assert err.value.wire_body()["param"] == "$.payment_data.instrument.credential.token"
    with world.db.tenant_session(TENANT) as s:
        assert token_row(s, token).status == "active"
        assert counts(s) == before  # no payment, no ledger entry, no token consumed
    _redeem(world, token)  # still spendable on its own checkout


def test_a_token_is_spent_once(world: World) -> None:
    token = _token(world)
    _redeem(world, token)
    with pytest.raises(AcpError) as err:
        _redeem(world, token)
    assert err.value.code == service.TOKEN_USED_CODE


def test_unknown_and_foreign_tokens_look_the_same(world: World) -> None:
    token = _token(world)
    with pytest.raises(AcpError) as unknown:
        _redeem(world, "spt_doesnotexist")
    world.services.keys.ensure_tenant("vault_other_tenant")
    with pytest.raises(AcpError) as foreign:
        run_tx(
            world.db,
            "vault_other_tenant",
            lambda s: redeem(
                s,
                token,
                merchant_id=MERCHANT,
                checkout_session_id="csn_r",
                amount=1,
                currency="SGD",
                at=AT,
            ),
        )
    assert unknown.value.code == foreign.value.code == service.TOKEN_NOT_FOUND
    assert unknown.value.message == foreign.value.message
    with world.db.tenant_session(TENANT) as s:
        assert token_row(s, token).status == "active"


def test_a_rolled_back_redemption_leaves_the_token_active(world: World) -> None:
    token = _token(world)

    class Boom(Exception):
        pass

    def fn(s: Any) -> None:
        redeem(
            s,
            token,
            merchant_id=MERCHANT,
            checkout_session_id="csn_r",
            amount=5,
            currency="SGD",
            at=AT,
        )
        raise Boom  # the checkout failed after the handler ran

    with pytest.raises(Boom):
        run_tx(world.db, TENANT, fn)
    with world.db.tenant_session(TENANT) as s:
        assert token_row(s, token).status == "active"


def test_two_concurrent_redemptions_one_wins(world: World) -> None:
    for _ in range(3):
        token = _token(world)
        results = released_together(2, lambda _i, t=token: _redeem(world, t))
        won = [r for r in results if isinstance(r, VaultCard)]
        lost = [r for r in results if isinstance(r, AcpError)]
        assert len(won) == 1 and len(lost) == 1, results
        assert lost[0].code == service.TOKEN_USED_CODE
        with world.db.tenant_session(TENANT) as s:
            assert token_row(s, token).status == "used"
