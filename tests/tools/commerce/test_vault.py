"""``POST /acp/agentic_commerce/delegate_payment``: tokens, idempotency, refusals — both backends.

Every request sent and every response received is validated against the official
``schema.delegate_payment.json``; the spec's own example request replays against the server.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from cockpit.tenancy.principal import Role
from tests.support.concurrency import released_together
from tests.tools.commerce.specs import acp_examples, acp_validator, assert_acp
from tests.tools.commerce.vault_support import (
    MASTERCARD,
    OTHER_MERCHANT,
    TENANT,
    VISA,
    World,
    delegate_body,
    example_request,
    headers,
    vault_world,
)
from tools.commerce.vault.models import VaultToken
from tools.payments.models import Card

PATH = "/acp/agentic_commerce/delegate_payment"
BUNDLE = "delegate_payment"


@pytest.fixture(scope="module")
def world(
    module_database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    backend = "sqlite" if module_database_url is None else "postgres"
    with vault_world(tmp_path_factory.mktemp(f"vault-{backend}"), module_database_url) as w:
        yield w


def _post(
    w: World, body: Any, idem: str | None, key: str | None = None, **h: str
) -> httpx.Response:
    if isinstance(body, dict):
        assert_acp("DelegatePaymentRequest", body, bundle=BUNDLE)
    return w.api.client.post(PATH, json=body, headers=headers(key or w.shopper, idem, **h))


def _created(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    assert_acp("DelegatePaymentResponse", body, bundle=BUNDLE)
    assert r.headers["Request-Id"] == "req_1"
    return body


def _error(r: httpx.Response, status: int, code: str, param: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert_acp("Error", body, bundle=BUNDLE)
    assert body["code"] == code, body
    if param is not None:
        assert body.get("param") == param, body
    assert r.headers.get("Request-Id") == "req_1"
    return body


def _tokens(w: World) -> int:
    with w.db.tenant_session(TENANT) as s:
        return int(s.scalar(select(func.count()).select_from(VaultToken)) or 0)


def _cards(w: World) -> int:
    with w.db.tenant_session(TENANT) as s:
        return int(s.scalar(select(func.count()).select_from(Card)) or 0)


# ----- the spec's own examples --------------------------------------------------------------


def test_the_official_example_request_replays(world: World) -> None:
    # acme_store is a USD merchant of the tenant; this platform's key is bound to it.
    key = world.services.keys.create_key(TENANT, Role.SHOPPER, merchant_id="acme_store").secret
    body = example_request()
    r = _post(world, body, "ex-1", key=key)
    _error(r, 422, "invalid_card", "$.allowance.expires_at")  # the example expired in 2025
    body["allowance"]["expires_at"] = "2026-11-26T07:20:50.52Z"
    created = _created(_post(world, body, "ex-2", key=key))
    example = acp_examples("delegate_payment")["delegate_payment_success_response"]
    assert set(created) == set(example)
    assert created["id"].startswith("spt_")
    assert created["metadata"] == {
        **body["metadata"],
        "merchant_id": "acme_store",
        "idempotency_key": "ex-2",
    }
    with world.db.tenant_session(TENANT) as s:
        row = s.get(VaultToken, created["id"])
        assert row is not None and row.status == "active"
        assert (row.max_amount, row.currency, row.merchant_id) == (2000, "usd", "acme_store")
        assert row.checkout_session_id == "csn_01HV3P3XYZ9ABC"
        card = s.get(Card, row.card_id)
        assert card is not None
        assert (card.brand, card.bin, card.last4, card.funding) == (
            "VISA",
            "42424242",
            "4242",
            "CREDIT",
        )
        assert (card.exp_month, card.exp_year, card.issuer, card.issuing_country) == (
            11,
            2026,
            "temp",
            "US",
        )


def test_the_official_error_examples_are_the_errors_we_answer(world: World) -> None:
    examples = acp_examples("delegate_payment")
    ours = {
        "delegate_payment_error_invalid_card": _post(
            world, delegate_body(number="4242424242424241"), "err-card"
        ),
        "delegate_payment_error_idempotency_key_required": _post(world, delegate_body(), None),
    }
    _created(_post(world, delegate_body(session_id="csn_err"), "err-conflict"))
    ours["delegate_payment_error_idempotency_conflict"] = _post(
        world, delegate_body(session_id="csn_other"), "err-conflict"
    )
    for name, response in ours.items():
        example = examples[name]
        assert_acp("Error", example, bundle=BUNDLE)
        got = response.json()
        assert (got["type"], got["code"]) == (example["type"], example["code"]), name
        assert_acp("Error", got, bundle=BUNDLE)


# ----- idempotency --------------------------------------------------------------------------


def test_same_key_same_body_replays_without_a_second_token(world: World) -> None:
    body = delegate_body(session_id="csn_idem")
    first = _created(_post(world, body, "idem-1"))
    before = _tokens(world), _cards(world)
    # Semantically equal: keys reordered, 50000.0 for 50000.
    again = json.loads(json.dumps(body))
    again["allowance"] = dict(reversed(list(again["allowance"].items())))
    again["allowance"]["max_amount"] = 50000.0
    r = world.api.client.post(PATH, json=again, headers=headers(world.shopper, "idem-1"))
    assert _created(r) == first
    assert r.headers["Idempotent-Replayed"] == "true"
    assert r.headers["Idempotency-Key"] == "idem-1"
    assert (_tokens(world), _cards(world)) == before


def test_same_key_other_body_is_a_conflict_and_writes_nothing(world: World) -> None:
    _created(_post(world, delegate_body(session_id="csn_c1"), "idem-c"))
    before = _tokens(world), _cards(world)
    r = _post(world, delegate_body(session_id="csn_c1", max_amount=1), "idem-c")
    _error(r, 422, "idempotency_conflict")
    assert r.headers["Idempotency-Key"] == "idem-c"
    assert (_tokens(world), _cards(world)) == before


def test_a_key_is_scoped_to_the_calling_platform(world: World) -> None:
    body = delegate_body(session_id="csn_scope")
    a = _created(_post(world, body, "idem-scope"))
    b = _created(_post(world, body, "idem-scope", key=world.shopper2))
    assert a["id"] != b["id"]


def test_missing_key_is_400_and_nothing_is_stored(world: World) -> None:
    before = _tokens(world)
    _error(_post(world, delegate_body(), None), 400, "idempotency_key_required")
    assert _tokens(world) == before


def test_concurrent_calls_with_one_key_make_one_token(world: World) -> None:
    body = delegate_body(session_id="csn_race")
    before = _tokens(world)
    results = released_together(
        4,
        lambda _i: world.api.client.post(PATH, json=body, headers=headers(world.shopper, "race-1")),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    ids = {r.json()["id"] for r in results if r.status_code == 201}
    assert len(ids) == 1 and all(r.status_code == 201 for r in results), [r.text for r in results]
    assert _tokens(world) == before + 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in results) == 3


# ----- refusals -----------------------------------------------------------------------------

REFUSALS: list[tuple[str, dict[str, Any], int, str]] = [
    ("bad check digit", {"number": "4242424242424241"}, 422, "$.payment_method.number"),
    ("letters in the number", {"number": "4242abcd42424242"}, 422, "$.payment_method.number"),
    (
        "unaccepted network",
        {"number": "6011111111111117", "display_brand": "discover"},
        422,
        "$.payment_method.number",
    ),
    ("expired card", {"exp_month": "10", "exp_year": "2026"}, 422, "$.payment_method.exp_year"),
    ("month 13", {"exp_month": "13"}, 422, "$.payment_method.exp_month"),
    ("iin of another card", {"iin": "555555"}, 422, "$.payment_method.iin"),
    ("last4 of another card", {"display_last4": "1111"}, 422, "$.payment_method.display_last4"),
    ("brand of another card", {"display_brand": "amex"}, 422, "$.payment_method.display_brand"),
    ("cvc of 5 characters", {"cvc": "12a"}, 422, "$.payment_method.cvc"),
    ("max_amount 0", {"allowance.max_amount": 0}, 422, "$.allowance.max_amount"),
    ("max_amount negative", {"allowance.max_amount": -5}, 422, "$.allowance.max_amount"),
    (
        "expires in the past",
        {"allowance.expires_at": "2026-11-25T00:00:00Z"},
        422,
        "$.allowance.expires_at",
    ),
    ("unknown merchant", {"allowance.merchant_id": "mer_nope"}, 422, "$.allowance.merchant_id"),
    (
        "another merchant than the key's",
        {"allowance.merchant_id": OTHER_MERCHANT},
        422,
        "$.allowance.merchant_id",
    ),
    (
        "currency the merchant does not take",
        {"allowance.currency": "usd"},
        422,
        "$.allowance.currency",
    ),
    ("no expiry", {"exp_month": None}, 400, "$.payment_method.exp_month"),
    ("unknown field", {"nickname": "x"}, 400, "$.payment_method.nickname"),
    ("reason other than one_time", {"allowance.reason": "recurring"}, 400, "$.allowance.reason"),
    ("expires_at not a date", {"allowance.expires_at": "tomorrow"}, 400, "$.allowance.expires_at"),
]


def _apply(body: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    for path, value in change.items():
        where = body["payment_method"]
        if path.startswith("allowance."):
            where, path = body["allowance"], path.removeprefix("allowance.")
        if value is None:
            where.pop(path, None)
        else:
            where[path] = value
    return body


@pytest.mark.parametrize(
    ("case", "change", "status", "param"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_refused_requests_store_nothing(
    world: World, case: str, change: dict[str, Any], status: int, param: str
) -> None:
    body = _apply(delegate_body(session_id=f"csn_{case}"), change)
    before = _tokens(world), _cards(world)
    r = world.api.client.post(PATH, json=body, headers=headers(world.shopper, f"ref-{case}"))
    err = _error(r, status, "invalid_card", param)
    assert err["type"] == "invalid_request"
    number = body["payment_method"]["number"]
    assert number not in r.text  # never echoed
    assert (_tokens(world), _cards(world)) == before
    # The refusal is not stored under the key: a corrected request with it succeeds.
    _created(_post(world, delegate_body(session_id=f"csn_{case}"), f"ref-{case}"))


def test_headers_and_roles(world: World) -> None:
    body = delegate_body(session_id="csn_hdr")
    r = world.api.client.post(
        PATH, json=body, headers={**headers(world.shopper, "hdr-1"), "API-Version": "2025-01-01"}
    )
    assert r.status_code == 400 and r.json()["code"] == "unsupported_api_version"
    assert r.json()["supported_versions"] == ["2026-04-17"]
    # The delegate bundle's Error lists no version codes (its code enum is closed); the
    # checkout bundle's Error (codes implementation-defined) is the shape we answer.
    assert_acp("Error", r.json())
    assert not acp_validator("Error", bundle=BUNDLE).is_valid(r.json())
    no_version = {k: v for k, v in headers(world.shopper, "hdr-2").items() if k != "API-Version"}
    r = world.api.client.post(PATH, json=body, headers=no_version)
    assert r.status_code == 400 and r.json()["code"] == "missing_api_version"
    # A merchant never holds the card: merchant keys may not delegate; admins of the tenant may.
    r = world.api.client.post(PATH, json=body, headers=headers(world.merchant_key, "hdr-3"))
    assert r.status_code == 403
    _created(world.api.client.post(PATH, json=body, headers=headers(world.admin_key, "hdr-4")))
    r = world.api.client.post(
        PATH,
        content=b"{not json",
        headers={**headers(world.shopper, "hdr-5"), "Content-Type": "application/json"},
    )
    _error(r, 400, "invalid_card", "$")


# ----- what is kept -------------------------------------------------------------------------


def test_no_card_number_or_cvc_is_stored_anywhere(world: World) -> None:
    body = delegate_body(session_id="csn_pan", number=MASTERCARD, cvc="987")
    token = _created(_post(world, body, "pan-1"))["id"]
    with world.db.tenant_session(TENANT) as s:
        row = s.get(VaultToken, token)
        assert row is not None
        assert row.pan_hash != hashlib.sha256(MASTERCARD.encode()).hexdigest()
    # Every text column of every vault and card row, on the database itself.
    with world.db.engine.connect() as conn:
        for table in ("com_vault_tokens", "pay_cards"):
            for values in conn.execute(text(f"SELECT * FROM {table}")):
                dump = json.dumps([str(v) for v in values])
                assert MASTERCARD not in dump and VISA not in dump
                assert MASTERCARD[:12] not in dump  # no more than BIN (8) and last four
    with world.db.tenant_session(TENANT) as s:
        tokens = s.scalars(select(VaultToken).where(VaultToken.key_id == world.shopper_id)).all()

        # The stored responses hold no CVC value (random ids may contain its digits: compare
        # values, not substrings).
        def values(node: Any) -> list[Any]:
            if isinstance(node, dict):
                return [v for x in node.values() for v in values(x)] + list(node)
            if isinstance(node, list):
                return [v for x in node for v in values(x)]
            return [node]

        assert tokens and all("987" not in values(t.response) for t in tokens)
        assert all("cvc" not in values(t.response) for t in tokens)


def test_the_same_card_delegated_twice_is_one_card_record(world: World) -> None:
    a = _created(_post(world, delegate_body(session_id="csn_dup1", number=MASTERCARD), "dup-1"))
    b = _created(_post(world, delegate_body(session_id="csn_dup2", number=MASTERCARD), "dup-2"))
    c = _created(
        _post(
            world, delegate_body(session_id="csn_dup3", number=MASTERCARD, exp_year="2029"), "dup-3"
        )
    )
    with world.db.tenant_session(TENANT) as s:
        cards = [s.get(VaultToken, t["id"]).card_id for t in (a, b, c)]  # type: ignore[union-attr]
    assert cards[0] == cards[1] != cards[2]  # a new expiry is a new card record
