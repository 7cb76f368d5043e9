"""Disputes: stages, deadlines, evidence checklist, accept / defend, ledger outcomes, wallets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cockpit.errors import Conflict, ValidationFailed
from tools.payments import ledger
from tools.payments.disputes import Disputes
from tools.payments.gateway import Gateway, PayRequest
from tools.payments.models import Device, Payment

T = "t_test"
NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def paid(gw: Gateway, rid: str, *, card: str = "card_visa", three_ds: bool = False, at: datetime = NOW,
         amount: int = 20_000, **kw: object) -> str:  # fmt: skip
    r = gw.pay(T, PayRequest("m_sg", rid, amount, "SGD", card_id=card, three_ds=three_ds, customer_id="cus_1",
                             device_id="dev_1", **kw), at=at)  # type: ignore[arg-type]  # fmt: skip
    assert r["state"] == "CAPTURED"
    return str(r["paymentId"])


def balances(gw: Gateway) -> dict[str, int]:
    with gw.db.tenant_session(T) as s:
        assert ledger.check_invariants(s) == []
        return ledger.merchant_balances(s, "m_sg")["SGD"]


def test_visa_chargeback_holds_funds_and_deadline(gw: Gateway) -> None:
    pid = paid(gw, "p1")
    d = Disputes(gw).open(T, pid, "13.1", at=NOW)
    assert d["stage"] == "CHARGEBACK" and d["status"] == "NEEDS_RESPONSE"
    assert (
        d["defenseDueTime"] == (NOW + timedelta(days=27)).isoformat()
    )  # 30-day Visa window − 3-day PSP buffer
    assert balances(gw) == {"pending": 20_000, "available": -20_000, "reserve": 20_000}
    with pytest.raises(Conflict) as err:
        Disputes(gw).open(T, pid, "13.1", at=NOW)
    assert err.value.code == "dispute_exists"
    with pytest.raises(ValidationFailed) as bad:
        Disputes(gw).open(T, paid(gw, "p2"), "4853", at=NOW)
    assert bad.value.code == "unknown_reason_code"


def test_accept_posts_loss_and_fee(gw: Gateway) -> None:
    pid = paid(gw, "p1")
    ds = Disputes(gw)
    d = ds.open(T, pid, "13.1", at=NOW)
    out = ds.accept(T, d["disputeId"], at=NOW + timedelta(days=1))
    assert out["status"] == "ACCEPTED" and out["disputeJudgedResult"] == "ACCEPT_BY_MERCHANT"
    fee = gw.rates.convert(1500, "EUR", "SGD").target_minor
    assert balances(gw) == {"pending": 20_000, "available": -20_000 - fee, "reserve": 0}
    with pytest.raises(Conflict) as err:
        ds.accept(T, d["disputeId"], at=NOW)
    assert err.value.code == "not_allow_in_current_status"


def test_checklist_and_defence_rules(gw: Gateway) -> None:
    pid = paid(gw, "p1")
    ds = Disputes(gw)
    d = ds.open(T, pid, "13.1", at=NOW)
    check = ds.checklist(T, d["disputeId"], at=NOW)
    tags = {e["evidenceTag"]: e for e in check["evidenceList"]}
    assert tags["DELIVERY_PROOF"] == {"evidenceTag": "DELIVERY_PROOF", "winRateContribution": "HIGH",
                                      "obtained": False, "source": "system"}  # fmt: skip
    assert tags["ORDER_INFORMATION"]["obtained"] is True
    assert check["winRateLevel"] == "LOW"
    with pytest.raises(ValidationFailed) as unknown:
        ds.submit(T, d["disputeId"], {"SELFIE": "x"}, at=NOW)
    assert unknown.value.code == "unknown_evidence_tag"
    ds.submit(
        T, d["disputeId"], {"DELIVERY_PROOF": "POD signed", "LOGISTIC_INFORMATION": "SG123"}, at=NOW
    )
    assert ds.checklist(T, d["disputeId"], at=NOW)["winRateLevel"] == "HIGH"
    with pytest.raises(Conflict) as again:
        ds.submit(T, d["disputeId"], {"CUSTOMER_COMMUNICATION": "mail"}, at=NOW)
    assert again.value.code == "defense_already_submitted"


def test_late_response_rejected_and_timeout_accepts(gw: Gateway) -> None:
    ds = Disputes(gw)
    d = ds.open(T, paid(gw, "p1"), "13.1", at=NOW)
    late = NOW + timedelta(days=28)
    with pytest.raises(Conflict) as err:
        ds.submit(T, d["disputeId"], {"DELIVERY_PROOF": "x"}, at=late)
    assert err.value.code == "time_exceeds_limit"
    out = ds.advance(T, d["disputeId"], at=late)
    assert out["status"] == "ACCEPTED" and out["disputeAcceptReason"] == "TIMEOUT"


def test_liability_shift_wins_fraud_dispute_and_releases_reserve(gw: Gateway) -> None:
    ds = Disputes(gw)
    d = ds.open(T, paid(gw, "p1", three_ds=True), "10.4", at=NOW)
    check = ds.checklist(T, d["disputeId"], at=NOW)
    assert check["liabilityShift"] is True and check["winRateLevel"] == "HIGH"
    ds.submit(T, d["disputeId"], {"DELIVERY_PROOF": "signed"}, at=NOW)
    # HIGH wins with probability 0.85 per stage; walk stages until closed.
    for step in range(4):
        out = ds.advance(T, d["disputeId"], at=NOW + timedelta(days=2 + step))
        if out["closedTime"]:
            break
        if out["status"] == "NEEDS_RESPONSE":
            ds.submit(
                T,
                d["disputeId"],
                {"CUSTOMER_COMMUNICATION": "mail"},
                at=NOW + timedelta(days=2 + step),
            )
    assert out["status"] in ("WON", "LOST")
    bal = balances(gw)
    assert bal["reserve"] == 0
    if out["status"] == "WON":
        assert bal["available"] == 0


def test_an_approval_alone_does_not_count_as_avs_cvv_evidence(gw: Gateway) -> None:
    # No 3DS, no CE 3.0 history: the device link is the only system evidence (MEDIUM); the
    # gateway stores no AVS/CVV2 result, so that tag stays for the merchant to supply.
    ds = Disputes(gw)
    d = ds.open(T, paid(gw, "p1"), "10.4", at=NOW)
    check = ds.checklist(T, d["disputeId"], at=NOW)
    obtained = {e["evidenceTag"]: e["obtained"] for e in check["evidenceList"]}
    assert obtained["AVS_CVV_MATCH"] is False and obtained["DEVICE_IP_LINK"] is True
    assert check["winRateLevel"] == "MEDIUM"


def test_compelling_evidence_3(gw: Gateway) -> None:
    # Two undisputed payments 120–365 days earlier sharing customer and device qualify CE 3.0.
    for i, days in enumerate((200, 300)):
        paid(gw, f"old{i}", at=NOW - timedelta(days=days))
    ds = Disputes(gw)
    d = ds.open(T, paid(gw, "new"), "10.4", at=NOW)
    check = ds.checklist(T, d["disputeId"], at=NOW)
    assert check["compellingEvidence3"]["state"] == "qualified"
    assert len(check["compellingEvidence3"]["priorTransactions"]) == 2
    assert check["winRateLevel"] == "HIGH"
    d2 = ds.open(T, paid(gw, "other", card="card_visa", at=NOW), "10.4", at=NOW)
    with gw.db.tenant_session(T) as s:
        assert s.scalar(select(Device).where(Device.id == "dev_1")) is not None
    assert ds.checklist(T, d2["disputeId"], at=NOW)["compellingEvidence3"]["state"] == "qualified"


def test_wallet_dispute_runs_retrieval_escalation_chargeback(gw: Gateway) -> None:
    from tools.payments.simulator import IssuerSimulator

    r = gw.pay(T, PayRequest("m_sg", "w1", 5_000, "PHP", method_type="GCASH"), at=NOW)
    assert r["state"] == "CAPTURED"
    ds = Disputes(Gateway(gw.db, simulator=IssuerSimulator(seed=3), rates=gw.rates))
    d = ds.open(T, r["paymentId"], "NOT_RECEIVED", at=NOW)
    assert d["network"] == "WALLET" and d["stage"] == "RETRIEVAL_REQUEST"
    with gw.db.tenant_session(T) as s:
        bal = ledger.merchant_balances(s, "m_sg")
    assert bal.get("SGD", {}).get("reserve", 0) == 0  # no funds move at retrieval
    check = ds.checklist(T, d["disputeId"], at=NOW)
    assert check["liabilityShift"] is False and check["compellingEvidence3"] is None
    # No response by the deadline: the wallet charges back, with no card scheme fee.
    out = ds.advance(T, d["disputeId"], at=NOW + timedelta(days=8))
    assert out["status"] == "ACCEPTED"
    with gw.db.tenant_session(T) as s:
        assert ledger.check_invariants(s) == []
        sgd = ledger.merchant_balances(s, "m_sg")["SGD"]
        assert sgd["available"] == -gw.rates.convert(5_000, "PHP", "SGD").target_minor
        assert s.scalar(select(Payment.disputed).where(Payment.id == r["paymentId"])) is True


class _AlwaysLose:
    """Judge draws at 0.999: the merchant loses every contested stage."""

    @staticmethod
    def patch(gw: Gateway) -> Gateway:
        from tools.payments.simulator import IssuerSimulator

        class Sim(IssuerSimulator):
            def uniform(self, *parts: object) -> float:
                return 0.999 if "judge" in parts else super().uniform(*parts)

        return Gateway(gw.db, simulator=Sim(), rates=gw.rates)


def test_card_dispute_walks_pre_arbitration_then_arbitration(gw: Gateway) -> None:
    ds = Disputes(_AlwaysLose.patch(gw))
    d = ds.open(T, paid(gw, "p1"), "13.1", at=NOW)
    did = d["disputeId"]
    ds.submit(
        T, did, {"DELIVERY_PROOF": "POD", "LOGISTIC_INFORMATION": "SG1"}, at=NOW + timedelta(days=1)
    )
    pre = ds.advance(T, did, at=NOW + timedelta(days=10))
    assert (pre["stage"], pre["status"]) == ("PRE_ARBITRATION", "NEEDS_RESPONSE")
    assert pre["defenseDueTime"] == (NOW + timedelta(days=10 + 27)).isoformat()
    assert balances(gw)["reserve"] == 20_000  # still frozen
    ds.submit(T, did, {"CUSTOMER_COMMUNICATION": "emails"}, at=NOW + timedelta(days=12))
    arb = ds.advance(T, did, at=NOW + timedelta(days=20))
    assert (arb["stage"], arb["status"]) == ("ARBITRATION", "UNDER_REVIEW")
    lost = ds.advance(T, did, at=NOW + timedelta(days=40))
    assert (lost["status"], lost["disputeJudgedResult"]) == ("LOST", "VALIDATE_FAIL")
    fees = gw.rates.convert(1500 + 50000, "EUR", "SGD").target_minor  # dispute + arbitration fee
    assert balances(gw) == {"pending": 20_000, "available": -20_000 - fees, "reserve": 0}


def test_mastercard_4808_goes_straight_to_arbitration(gw: Gateway) -> None:
    ds = Disputes(_AlwaysLose.patch(gw))
    d = ds.open(T, paid(gw, "p1", card="card_mc"), "4808", at=NOW)
    assert d["defenseDueTime"] == (NOW + timedelta(days=42)).isoformat()  # 45-day window − buffer
    ds.submit(T, d["disputeId"], {"ORDER_INFORMATION": "approval code 123456"}, at=NOW)
    step = ds.advance(T, d["disputeId"], at=NOW + timedelta(days=5))
    assert (step["stage"], step["status"]) == ("ARBITRATION", "UNDER_REVIEW")


def test_deadline_only_lowers_disputes_still_awaiting_a_response(gw: Gateway) -> None:
    ds = Disputes(gw)
    d = ds.open(T, paid(gw, "p9", three_ds=True), "10.4", at=NOW)
    ds.submit(T, d["disputeId"], {"DELIVERY_PROOF": "signed"}, at=NOW)
    long_after = NOW + timedelta(days=400)
    # Defended in time: under review, and a year later its evidence still rates HIGH.
    assert ds.checklist(T, d["disputeId"], at=long_after)["winRateLevel"] == "HIGH"
    fresh = ds.open(T, paid(gw, "p10", three_ds=True), "10.4", at=NOW)
    assert ds.checklist(T, fresh["disputeId"], at=long_after)["winRateLevel"] == "LOW"
