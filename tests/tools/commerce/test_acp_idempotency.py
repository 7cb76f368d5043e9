"""ACP idempotency (DOMAIN.md §10a's table, case by case) and concurrent completes, on SQLite
and PostgreSQL. Every error answer is validated against the official ``Error`` schema."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from cockpit.clock import utcnow
from tests.support.concurrency import released_together
from tests.tools.commerce.conftest import FAKE_HANDLER, AcpWorld, acp_headers, instrument
from tests.tools.commerce.specs import assert_acp
from tools.commerce.acp import idempotency as idem
from tools.commerce.acp.models import IdempotencyRecord, OrderRow
from tools.commerce.acp.service import CheckoutService
from tools.commerce.acp.wire import RequestMeta
from tools.commerce.errors import AcpError

CAPS = {"interventions": {"supported": []}}
DIGITAL = {"currency": "sgd", "line_items": [{"id": "care_warranty_2y"}], "capabilities": CAPS}


def post(world: AcpWorld, path: str, body: Any, key: str, *, who: str = "shopper") -> Any:
    return world.client.post(
        f"/acp{path}", json=body, headers=acp_headers(world.keys[who], idem=key)
    )


def sessions(world: AcpWorld) -> int:
    from tools.commerce.acp.models import CheckoutSessionRow

    with world.session() as s:
        return int(s.scalar(select(func.count()).select_from(CheckoutSessionRow)) or 0)


def test_same_key_same_body_replays_without_side_effects(acp_world: AcpWorld) -> None:
    before = sessions(acp_world)
    first = post(acp_world, "/checkout_sessions", DIGITAL, "idem-replay-1")
    assert first.status_code == 201
    # Semantically equal body: other key order, 1.0 for no number here but reordered dicts.
    same = {"capabilities": CAPS, "line_items": [{"id": "care_warranty_2y"}], "currency": "sgd"}
    again = post(acp_world, "/checkout_sessions", same, "idem-replay-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert sessions(acp_world) == before + 1
    assert_acp("CheckoutSession", again.json())


def test_same_key_different_body_is_422_conflict(acp_world: AcpWorld) -> None:
    assert post(acp_world, "/checkout_sessions", DIGITAL, "idem-conflict-1").status_code == 201
    other = {**DIGITAL, "line_items": [{"id": "volt_charger_65w"}]}
    r = post(acp_world, "/checkout_sessions", other, "idem-conflict-1")
    assert r.status_code == 422 and r.json()["code"] == "idempotency_conflict"
    assert_acp("Error", r.json())
    # null is not absence
    with_null = {**DIGITAL, "buyer": None}
    r = post(acp_world, "/checkout_sessions", with_null, "idem-conflict-1")
    assert r.status_code == 422


def test_numbers_compare_semantically(acp_world: AcpWorld) -> None:
    body = {**DIGITAL, "metadata": {"n": 1}}
    assert post(acp_world, "/checkout_sessions", body, "idem-num-1").status_code == 201
    r = post(acp_world, "/checkout_sessions", {**DIGITAL, "metadata": {"n": 1.0}}, "idem-num-1")
    assert r.status_code == 201 and r.headers["Idempotent-Replayed"] == "true"


def test_key_scope_is_identity_and_path(acp_world: AcpWorld) -> None:
    assert post(acp_world, "/checkout_sessions", DIGITAL, "idem-scope-1").status_code == 201
    # Another API key with the same Idempotency-Key: an independent request.
    r = post(acp_world, "/checkout_sessions", DIGITAL, "idem-scope-1", who="shopper2")
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    sid = r.json()["id"]
    # Another path with the same key and key id: independent too.
    r = post(
        acp_world,
        f"/checkout_sessions/{sid}",
        {"order_notes": "hi"},
        "idem-scope-1",
        who="shopper2",
    )
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers


def test_4xx_answers_are_replayed_and_5xx_are_not_stored(acp_world: AcpWorld) -> None:
    bad = {**DIGITAL, "line_items": [{"id": "no_such_item"}]}
    r1 = post(acp_world, "/checkout_sessions", bad, "idem-4xx-1")
    r2 = post(acp_world, "/checkout_sessions", bad, "idem-4xx-1")
    assert r1.status_code == r2.status_code == 400 and r1.json() == r2.json()
    assert r2.headers["Idempotent-Replayed"] == "true"
    # A 5xx (the handler blew up) leaves no record: the retry runs afresh.
    sid = post(acp_world, "/checkout_sessions", DIGITAL, "idem-5xx-s").json()["id"]
    handler = acp_world.handler
    calls = handler.calls_for(sid)
    original = handler.charge

    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("processor down")

    handler.charge = boom  # type: ignore[method-assign]
    try:
        pay = {"payment_data": {"handler_id": FAKE_HANDLER, "instrument": instrument()}}
        r = post(acp_world, f"/checkout_sessions/{sid}/complete", pay, "idem-5xx-1")
        assert r.status_code == 500
    finally:
        handler.charge = original  # type: ignore[method-assign]
    with acp_world.session() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(IdempotencyRecord)
                .where(IdempotencyRecord.idem_key == "idem-5xx-1")
            )
            == 0
        )
    r = post(acp_world, f"/checkout_sessions/{sid}/complete", pay, "idem-5xx-1")
    assert r.status_code == 200 and r.json()["status"] == "completed"
    assert "Idempotent-Replayed" not in r.headers
    assert handler.calls_for(sid) == calls + 1


def test_in_flight_is_409_with_retry_after(acp_world: AcpWorld) -> None:
    """A claim still held (its request running) answers 409; after the lease it is taken over."""
    principal = acp_world.principals["shopper"]
    at = utcnow()
    echo = {"Idempotency-Key": "idem-flight-1"}
    claim = idem.claim(
        acp_world.db,
        principal.tenant_id,
        key_id=principal.key_id,
        scope="/checkout_sessions",
        key="idem-flight-1",
        fingerprint="f" * 64,
        echo=echo,
        at=at,
    )
    assert isinstance(claim, idem.Claim)
    svc = CheckoutService(acp_world.db, acp_world.services.extras)
    meta = RequestMeta(api_version="2026-04-17", idempotency_key="idem-flight-1")
    with pytest.raises(AcpError) as caught:  # another body than the claim's: a conflict
        svc.create(principal, meta, {**DIGITAL, "metadata": {"x": 1}}, at=at)
    assert (caught.value.status, caught.value.code) == (422, "idempotency_conflict")
    from tools.commerce.acp.wire import body_fingerprint

    with acp_world.session() as s:
        row = s.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.idem_key == "idem-flight-1")
        )
        assert row is not None
        row.fingerprint = body_fingerprint(DIGITAL)
    r = post(acp_world, "/checkout_sessions", DIGITAL, "idem-flight-1")
    assert r.status_code == 409 and r.json()["code"] == "idempotency_in_flight"
    assert int(r.headers["Retry-After"]) >= 1
    assert_acp("Error", r.json())
    # The holder died: after the lease the key is taken over and the request runs.
    later = svc.create(principal, meta, DIGITAL, at=at + idem.LEASE + timedelta(seconds=1))
    assert later.status == 201 and "Idempotent-Replayed" not in later.headers
    # …and the dead holder can no longer commit under it.
    with acp_world.session() as s:
        try:
            idem.finish(s, claim, status=201, body={}, headers={})
        except Exception as exc:
            assert "taken over" in str(exc)
        else:
            raise AssertionError("a lost claim must not finish")


def test_keys_past_retention_start_afresh(acp_world: AcpWorld) -> None:
    principal = acp_world.principals["shopper"]
    svc = CheckoutService(acp_world.db, acp_world.services.extras)
    meta = RequestMeta(api_version="2026-04-17", idempotency_key="idem-old-1")
    at = utcnow()
    first = svc.create(principal, meta, DIGITAL, at=at)
    replay = svc.create(principal, meta, DIGITAL, at=at + timedelta(hours=23))
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.body == first.body
    fresh = svc.create(principal, meta, DIGITAL, at=at + idem.RETENTION + timedelta(seconds=1))
    assert fresh.status == 201 and fresh.body["id"] != first.body["id"]


def _ready_session(world: AcpWorld) -> str:
    r = post(
        world,
        "/checkout_sessions",
        DIGITAL,
        f"idem-race-{threading.get_ident()}-{utcnow().timestamp()}",
    )
    assert r.status_code == 201 and r.json()["status"] == "ready_for_payment"
    return str(r.json()["id"])


def test_two_concurrent_completes_make_one_order_and_one_charge(acp_world: AcpWorld) -> None:
    sid = _ready_session(acp_world)
    pay = {"payment_data": {"handler_id": FAKE_HANDLER, "instrument": instrument()}}
    acp_world.handler.delay_s = 0.3
    try:
        results = released_together(
            2,
            lambda i: post(
                acp_world, f"/checkout_sessions/{sid}/complete", pay, f"race-key-{sid}-{i}"
            ),
        )
    finally:
        acp_world.handler.delay_s = 0.0
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 400], [r.text for r in results]
    loser = next(r for r in results if r.status_code == 400)
    assert loser.json()["code"] == "invalid_session_state"
    assert acp_world.handler.calls_for(sid) == 1
    with acp_world.session() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(OrderRow)
                .where(OrderRow.checkout_session_id == sid)
            )
            == 1
        )


def test_concurrent_completes_with_one_key_charge_once(acp_world: AcpWorld) -> None:
    sid = _ready_session(acp_world)
    pay = {"payment_data": {"handler_id": FAKE_HANDLER, "instrument": instrument()}}
    acp_world.handler.delay_s = 0.3
    try:
        results = released_together(
            3,
            lambda i: post(acp_world, f"/checkout_sessions/{sid}/complete", pay, f"one-key-{sid}"),
        )
    finally:
        acp_world.handler.delay_s = 0.0
    ok = [r for r in results if r.status_code == 200]
    busy = [r for r in results if r.status_code == 409]
    assert len(ok) + len(busy) == 3 and ok, [r.text for r in results]
    assert all(r.json()["code"] == "idempotency_in_flight" for r in busy)
    assert all(r.json()["order"]["id"] == ok[0].json()["order"]["id"] for r in ok)
    assert acp_world.handler.calls_for(sid) == 1
    with acp_world.session() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(OrderRow)
                .where(OrderRow.checkout_session_id == sid)
            )
            == 1
        )
