"""Lifecycle, idempotency and bad-input behaviour of the gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cockpit.db.session import Database
from cockpit.errors import CockpitError, Conflict, NotFound, ValidationFailed
from tools.payments import ledger
from tools.payments.gateway import (
    CaptureRequest,
    Gateway,
    PayRequest,
    RefundRequest,
    wallet_cancel_deadline,
)
from tools.payments.models import LedgerEntry, Notification, Payment

T = "t_test"
NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def pay(gw: Gateway, rid: str = "r1", **kw: object) -> dict:
    args: dict = {"merchant_id": "m_sg", "request_id": rid, "amount": 10_000, "currency": "SGD",
                  "card_id": "card_visa"} | kw  # fmt: skip
    return gw.pay(T, PayRequest(**args), at=kw.pop("at", NOW) if "at" in kw else NOW)


def snapshot(db: Database) -> tuple[int, dict]:
    with db.tenant_session(T) as s:
        n = s.scalar(select(func.count()).select_from(LedgerEntry)) or 0
        return n, ledger.merchant_balances(s, "m_sg")


def test_auto_capture_posts_balanced_capture(gw: Gateway) -> None:
    r = pay(gw)
    assert r["result"] == {"resultStatus": "S", "resultCode": "SUCCESS", "resultMessage": "success"}
    assert r["paymentStatus"] == "SUCCESS" and r["state"] == "CAPTURED"
    with gw.db.tenant_session(T) as s:
        assert ledger.merchant_balances(s, "m_sg")["SGD"]["pending"] == 10_000
        assert ledger.check_invariants(s) == []
        assert s.scalar(select(func.count()).select_from(Notification)) == 2  # payment + capture


def test_same_request_same_body_returns_first_result(gw: Gateway) -> None:
    first = pay(gw)
    again = pay(gw)
    assert again == first
    with gw.db.tenant_session(T) as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 1


def test_same_request_other_body_is_conflict(gw: Gateway) -> None:
    pay(gw)
    before = snapshot(gw.db)
    with pytest.raises(Conflict) as err:
        pay(gw, amount=10_001)
    assert err.value.code == "idempotency_key_reused"
    assert err.value.details["resultCode"] == "REPEAT_REQ_INCONSISTENT"
    assert snapshot(gw.db) == before


def test_manual_capture_partial_then_refunds(gw: Gateway) -> None:
    p = pay(gw, capture_mode="MANUAL")
    assert p["state"] == "AUTHORIZED" and p["authExpiryTime"]
    assert snapshot(gw.db)[0] == 0  # authorisation is a memo hold: no balance moves
    pid = p["paymentId"]
    gw.capture(T, CaptureRequest("m_sg", pid, "c1", 6_000), at=NOW)
    gw.capture(T, CaptureRequest("m_sg", pid, "c2", 4_000, is_last=True), at=NOW)
    with pytest.raises(Conflict) as err:
        gw.capture(T, CaptureRequest("m_sg", pid, "c3", 1), at=NOW)
    assert err.value.code == "capture_closed"
    gw.refund(T, RefundRequest("m_sg", pid, "rf1", 3_000), at=NOW)
    gw.refund(T, RefundRequest("m_sg", pid, "rf2", 7_000), at=NOW)
    with pytest.raises(Conflict) as err:
        gw.refund(T, RefundRequest("m_sg", pid, "rf3", 1), at=NOW)
    assert err.value.code == "refund_amount_exceed"
    with gw.db.tenant_session(T) as s:
        p2 = s.scalar(select(Payment).where(Payment.id == pid))
        assert p2 is not None and p2.captured_amount == 10_000 and p2.refunded_amount == 10_000
        bal = ledger.merchant_balances(s, "m_sg")["SGD"]
        assert bal["pending"] == 10_000 and bal["available"] == -10_000
        assert ledger.check_invariants(s) == []


def test_settlement_moves_pending_to_available_with_fee_and_fx(gw: Gateway) -> None:
    r = pay(gw, currency="USD", amount=10_000)  # USD payment, SGD settlement
    gw.settle(T, "m_sg", cutoff=NOW, at=NOW + timedelta(days=1))
    with gw.db.tenant_session(T) as s:
        bal = ledger.merchant_balances(s, "m_sg")
        assert bal["USD"]["pending"] == 0
        converted = gw.rates.convert(10_000, "USD", "SGD").target_minor
        fee = round(converted * 0.029)
        assert bal["SGD"]["available"] == converted - fee
        assert ledger.balance(s, ledger.fx_clearing("USD"), "USD") == 10_000
        assert ledger.currency_totals(s) == {"USD": 0, "SGD": 0}
        assert ledger.check_invariants(s) == []
        entries = ledger.entries_for(s, "capture", s.scalar(select(Payment.id)) or "")
    assert r["paymentAmount"] == {"currency": "USD", "value": "10000"}
    assert entries == []  # journals hang off the capture, not the payment


@pytest.mark.parametrize(
    ("kw", "code", "param"),
    [
        ({"currency": "XYZ"}, "unknown_currency", "currency"),
        ({"amount": 0}, "amount_not_positive", "amount"),
        ({"amount": -5}, "amount_not_positive", "amount"),
        ({"amount": 10.5}, "amount_not_integer", "amount"),
        (
            {"currency": "JPY", "method_type": "PAYPAY", "card_id": None, "amount": 0},
            "amount_not_positive",
            "amount",
        ),
        (
            {"currency": "IDR", "method_type": "DANA", "card_id": None, "amount": 3_000_050},
            "amount_wire_step",
            "amount",
        ),
        (
            {"currency": "SGD", "method_type": "GCASH", "card_id": None},
            "currency_not_supported",
            "currency",
        ),
        ({"method_type": "NOPE"}, "unknown_payment_method", "method_type"),
        ({"card_id": None}, "card_required", "card_id"),
        ({"capture_mode": "LATER"}, "invalid_capture_mode", "capture_mode"),
        ({"request_id": "x" * 65}, "invalid_request_id", "request_id"),
    ],
)
def test_bad_pay_input_is_rejected_without_writes(
    gw: Gateway, kw: dict, code: str, param: str
) -> None:
    before = snapshot(gw.db)
    with pytest.raises(ValidationFailed) as err:
        pay(gw, **kw)
    assert (err.value.code, err.value.param) == (code, param)
    assert snapshot(gw.db) == before
    with gw.db.tenant_session(T) as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 0


def test_unknown_merchant_card_and_inactive_kyb(gw: Gateway) -> None:
    with pytest.raises(NotFound) as nf:
        pay(gw, merchant_id="m_other")
    assert nf.value.code == "merchant_not_found"
    with pytest.raises(NotFound) as nc:
        pay(gw, card_id="card_missing")
    assert nc.value.code == "card_not_found"
    with pytest.raises(Conflict) as kyb:
        pay(gw, merchant_id="m_pending")
    assert kyb.value.code == "merchant_not_active"


def test_other_tenant_cannot_see_or_touch_payments(gw: Gateway) -> None:
    p = pay(gw)
    with pytest.raises(NotFound):
        gw.refund("t_other", RefundRequest("m_sg", p["paymentId"], "rf", 100), at=NOW)
    with pytest.raises(NotFound):
        gw.inquire("t_other", p["paymentId"])


def test_state_errors_have_codes_and_no_ledger_change(gw: Gateway) -> None:
    manual = pay(gw, "man", capture_mode="MANUAL")["paymentId"]
    gw.cancel(T, "m_sg", manual, at=NOW)
    before = snapshot(gw.db)
    cases = [
        (
            lambda: gw.capture(T, CaptureRequest("m_sg", manual, "c", 100), at=NOW),
            "payment_cancelled",
        ),
        (
            lambda: gw.refund(T, RefundRequest("m_sg", manual, "r", 100), at=NOW),
            "payment_not_captured",
        ),
    ]
    auto = pay(gw, "auto")["paymentId"]
    before = snapshot(gw.db)
    cases += [
        (lambda: gw.refund(T, RefundRequest("m_sg", auto, "r2", 10_001), at=NOW), "refund_amount_exceed"),
        (lambda: gw.cancel(T, "m_sg", auto, at=NOW), "cancel_after_capture"),
        (lambda: gw.capture(T, CaptureRequest("m_sg", auto, "c2", 1), at=NOW), "capture_not_manual"),
        (lambda: gw.refund(T, RefundRequest("m_sg", auto, "r3", 5, None), at=NOW + timedelta(days=400)),
         "refund_window_exceeded"),
    ]  # fmt: skip
    for call, code in cases:
        with pytest.raises(CockpitError) as err:
            call()
        assert err.value.code == code
    assert snapshot(gw.db) == before
    # capture after the authorisation expired
    late = pay(gw, "late", capture_mode="MANUAL")["paymentId"]
    with pytest.raises(Conflict) as exp:
        gw.capture(T, CaptureRequest("m_sg", late, "c9", 100), at=NOW + timedelta(days=8))
    assert exp.value.code == "authorization_expired"
    # card cancel window (7 days)
    with pytest.raises(Conflict) as win:
        gw.cancel(T, "m_sg", late, at=NOW + timedelta(days=8))
    assert win.value.code == "cancel_window_exceeded"


def test_wallet_cancel_window_and_reversal(gw: Gateway) -> None:
    with gw.db.tenant_session(T) as s:
        from tools.payments.models import Merchant

        m = s.scalar(select(Merchant).where(Merchant.id == "m_sg"))
        assert m is not None
        m.kyb_state = "APPROVED"
    created = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # 18:00 in UTC+8
    deadline = wallet_cancel_deadline(created)
    assert deadline == datetime(2026, 11, 2, 16, 15, tzinfo=UTC)  # 00:15 UTC+8 on T+1
    ok = gw.pay(T, PayRequest("m_sg", "w1", 1_000, "PHP", method_type="GCASH"), at=created)
    late = gw.pay(T, PayRequest("m_sg", "w2", 1_000, "PHP", method_type="GCASH"), at=created)
    if ok["state"] == "CAPTURED":
        c = gw.cancel(T, "m_sg", ok["paymentId"], at=deadline - timedelta(minutes=1))
        assert c["reversedAmount"] == {"currency": "PHP", "value": "1000"}
    with pytest.raises(Conflict) as err:
        gw.cancel(T, "m_sg", late["paymentId"], at=deadline + timedelta(minutes=1))
    assert err.value.code == "cancel_window_exceeded"
    with gw.db.tenant_session(T) as s:
        assert ledger.check_invariants(s) == []
        assert ledger.merchant_balances(s, "m_sg")["PHP"]["pending"] == 1_000  # only w2 remains


def test_declines_are_final_and_explained(seeded: Database) -> None:
    db = seeded
    from tools.payments.simulator import Degradation, IssuerSimulator

    gw = Gateway(
        db,
        simulator=IssuerSimulator(
            seed=1, degradations=[Degradation(1.0, "91", issuer="Merlion Bank")]
        ),
    )
    r = gw.pay(T, PayRequest("m_sg", "d1", 5_000, "SGD", card_id="card_visa"), at=NOW)
    assert r["result"]["resultStatus"] == "F" and r["paymentStatus"] == "FAIL"
    info = r["paymentResultInfo"]
    assert info["refusalCodeRaw"] == "91" and info["declineType"] == "SOFT"
    assert info["suggestedLever"] == "failover_acquirer"
    assert gw.pay(T, PayRequest("m_sg", "d1", 5_000, "SGD", card_id="card_visa"), at=NOW) == r
    assert snapshot(db)[0] == 0


def test_hard_decline_blocks_retries_on_the_same_card(seeded: Database) -> None:
    db = seeded
    from tools.payments.simulator import Degradation, IssuerSimulator

    sim = IssuerSimulator(
        seed=1,
        degradations=[
            Degradation(1.0, "43", issuer="Merlion Bank", end=NOW + timedelta(minutes=1))
        ],
    )
    gw = Gateway(db, simulator=sim)
    assert (
        gw.pay(T, PayRequest("m_sg", "h1", 5_000, "SGD", card_id="card_visa"), at=NOW)[
            "paymentResultInfo"
        ]["refusalCodeRaw"]
        == "43"
    )
    later = gw.pay(
        T, PayRequest("m_sg", "h2", 5_000, "SGD", card_id="card_visa"), at=NOW + timedelta(hours=1)
    )
    assert later["paymentResultInfo"]["refusalCodeRaw"] == "RETRY_CAP_EXCEEDED"


def test_unknown_result_is_resolved_by_retry_with_same_id(seeded: Database) -> None:
    db = seeded
    from tools.payments.simulator import IssuerSimulator

    class Flaky(IssuerSimulator):
        def decide(self, ctx):  # type: ignore[no-untyped-def]
            from tools.payments.simulator import AuthDecision

            return (
                AuthDecision(False, unknown=True, code="")
                if ctx.attempt == 1
                else AuthDecision(True)
            )

    gw = Gateway(db, simulator=Flaky())
    first = gw.pay(T, PayRequest("m_sg", "u1", 5_000, "SGD", card_id="card_visa"), at=NOW)
    assert first["result"]["resultStatus"] == "U" and first["paymentStatus"] == "PROCESSING"
    assert snapshot(db)[0] == 0
    second = gw.pay(T, PayRequest("m_sg", "u1", 5_000, "SGD", card_id="card_visa"), at=NOW)
    assert second["result"]["resultStatus"] == "S" and second["paymentId"] == first["paymentId"]
    assert gw.pay(T, PayRequest("m_sg", "u1", 5_000, "SGD", card_id="card_visa"), at=NOW) == second


def test_mastercard_retry_cap_after_ten_declines_in_a_day(seeded: Database) -> None:
    from tools.payments.simulator import Degradation, IssuerSimulator

    sim = IssuerSimulator(seed=1, degradations=[Degradation(1.0, "51", issuer="Harbour Bank")])
    gw = Gateway(seeded, simulator=sim)
    codes = [
        gw.pay(
            T,
            PayRequest("m_sg", f"mc{i}", 5_000, "SGD", card_id="card_mc"),
            at=NOW + timedelta(minutes=i),
        )["paymentResultInfo"]["refusalCodeRaw"]
        for i in range(12)
    ]
    assert codes[:11] == ["51"] * 11  # soft declines may be retried …
    assert codes[11] == "RETRY_CAP_EXCEEDED"  # … until more than 10 in 24 h
    later = gw.pay(
        T,
        PayRequest("m_sg", "mc-next-day", 5_000, "SGD", card_id="card_mc"),
        at=NOW + timedelta(days=2),
    )
    assert later["paymentResultInfo"]["refusalCodeRaw"] == "51"  # the window has passed
