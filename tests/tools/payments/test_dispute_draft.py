"""Dispute response drafts: evidence text from the gateway's own records, nothing invented."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from cockpit.db.base import utcnow
from cockpit.errors import Conflict, NotFound
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit import ToolContext, ToolKind, default_registry
from tools.payments import tools as ptools
from tools.payments.dispute_draft import MAX_DRAFT_CHARS, MERCHANT_SUPPLIES
from tools.payments.disputes import Disputes
from tools.payments.gateway import Gateway, PayRequest, RefundRequest
from tools.payments.models import (
    Capture,
    Customer,
    Device,
    Dispute,
    DisputeEvidence,
    Payment,
    Refund,
)

T = "t_test"
NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def paid(gw: Gateway, rid: str, *, at: datetime = NOW, three_ds: bool = False, amount: int = 20_000,
         card: str = "card_visa", customer: str | None = "cus_1", device: str | None = "dev_1") -> str:  # fmt: skip
    r = gw.pay(T, PayRequest("m_sg", rid, amount, "SGD", card_id=card, three_ds=three_ds,
                             customer_id=customer, device_id=device), at=at)  # fmt: skip
    assert r["state"] == "CAPTURED"
    return str(r["paymentId"])


def opened(gw: Gateway, payment_id: str, code: str, *, at: datetime = NOW) -> str:
    return str(Disputes(gw).open(T, payment_id, code, at=at)["disputeId"])


def row(gw: Gateway, model: Any, **where: Any) -> Any:
    with gw.db.tenant_session(T) as s:
        stmt = select(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        found = s.scalars(stmt).all()
        s.expunge_all()
        return found


def missing_tags(draft: dict[str, Any]) -> list[str]:
    return [m["evidenceTag"] for m in draft["missing"]]


def add_buyer(gw: Gateway, n: int, ip: str) -> None:
    with gw.db.tenant_session(T) as s:
        s.add(Customer(id=f"cus_{n}", email=f"b{n}@example.com", country="SG"))
        s.flush()
        s.add(Device(id=f"dev_{n}", customer_id=f"cus_{n}", fingerprint=str(n) * 32, ip=ip))


# ----- facts of a 3DS card payment ------------------------------------------------------------


def test_3ds_fraud_draft_states_the_gateway_facts(gw: Gateway) -> None:
    pid = paid(gw, "order-77", three_ds=True, at=NOW - timedelta(days=2))
    did = opened(gw, pid, "10.4")
    draft = Disputes(gw).draft(T, did, at=NOW)
    [payment] = row(gw, Payment, id=pid)
    [capture] = row(gw, Capture, payment_id=pid)
    [dispute] = row(gw, Dispute, id=did)
    evidence = draft["evidence"]
    assert set(evidence) == {"ORDER_INFORMATION", "THREE_DS_RESULT", "DEVICE_IP_LINK"}

    three_ds = evidence["THREE_DS_RESULT"]
    assert payment.eci == "05" and payment.authorization_code
    assert f"{pid} was authenticated with 3-D Secure" in three_ds
    assert "VISA ECI 05 (authenticated)" in three_ds
    assert f"approval code {payment.authorization_code}" in three_ds
    assert "Liability for fraud shifted to the issuer" in three_ds

    order = evidence["ORDER_INFORMATION"]
    for fact in (f"Payment {pid} (merchant request order-77) for 200.00 SGD",
                 "VISA card ending 1111 issued by Merlion Bank (SG)", "customer cus_1",
                 f"authorised 2026-10-31 03:00 UTC with approval code {payment.authorization_code}",
                 f"captured 200.00 SGD in 1 capture (last {capture.id} at 2026-10-31 03:00 UTC)",
                 "not yet settled", "no refunds", f"Dispute {did} (VISA 10.4) opened 2026-11-02 03:00 UTC"):  # fmt: skip
        assert fact in order, fact

    device = evidence["DEVICE_IP_LINK"]
    assert "device dev_1" in device and "IP address 203.0.113.7" in device
    assert "registered to customer cus_1" in device and "no earlier captured payments" in device

    # What the gateway does not hold is listed for the merchant, in checklist order.
    assert missing_tags(draft) == ["PRIOR_UNDISPUTED_TXNS", "AVS_CVV_MATCH", "DELIVERY_PROOF"]
    needed = {m["evidenceTag"]: m["needed"] for m in draft["missing"]}
    assert "does not store AVS or CVV2" in needed["AVS_CVV_MATCH"]
    assert needed["DELIVERY_PROOF"] == MERCHANT_SUPPLIES["DELIVERY_PROOF"]

    assert [i["evidenceTag"] for i in draft["evidenceItems"]] == [
        "THREE_DS_RESULT", "DEVICE_IP_LINK", "ORDER_INFORMATION"]  # fmt: skip
    assert all(evidence[i["evidenceTag"]] == i["text"] for i in draft["evidenceItems"])
    assert all(len(text) <= MAX_DRAFT_CHARS for text in evidence.values())
    assert (draft["winRate"], draft["recommendation"]) == ("HIGH", "defend")
    assert draft["deadline"] == dispute.defense_due_at.isoformat()
    assert draft["submittable"] is True and draft["blocker"] is None
    events = [(e["event"], e["ref"]) for e in draft["auditTrail"]]
    assert events == [("PAYMENT_CREATED", pid), ("AUTHORISED", pid), ("CAPTURED", capture.id),
                      ("DISPUTE_CREATED", did)]  # fmt: skip


# ----- Visa CE 3.0 ------------------------------------------------------------------------------


def test_ce3_prior_undisputed_transactions_found(gw: Gateway) -> None:
    priors = [paid(gw, f"old{days}", at=NOW - timedelta(days=days)) for days in (300, 200)]
    did = opened(gw, paid(gw, "new"), "10.4")
    draft = Disputes(gw).draft(T, did, at=NOW)
    text = draft["evidence"]["PRIOR_UNDISPUTED_TXNS"]
    [new] = [e["ref"] for e in draft["auditTrail"] if e["event"] == "PAYMENT_CREATED"]
    assert text.startswith(f"Visa Compelling Evidence 3.0: {new} (2026-11-02; account id cus_1, "
                           "device id dev_1, IP address 203.0.113.7) follows two undisputed "
                           "payments on the same VISA card ending 1111 made 120–365 days earlier")  # fmt: skip
    assert text.endswith("Neither was disputed.") and len(text) <= MAX_DRAFT_CHARS
    assert sorted(draft["compellingEvidence3"]["priorTransactions"]) == sorted(priors)
    for pid, days in zip(priors, (300, 200), strict=True):
        [prior] = row(gw, Payment, id=pid)
        day = (NOW - timedelta(days=days)).strftime("%Y-%m-%d")
        assert (f"{pid} on {day} for 200.00 SGD, approval code {prior.authorization_code}, "
                "same account, device and IP") in text  # fmt: skip
    assert "THREE_DS_RESULT" in missing_tags(draft)  # no 3DS on this payment: not claimed
    assert "2 captured payments here (none disputed)" in draft["evidence"]["DEVICE_IP_LINK"]
    assert draft["winRate"] == "HIGH" and draft["recommendation"] == "defend"
    assert any("CE 3.0 is checked on account id, device id and IP" in n for n in draft["notes"])


def test_ce3_not_found_when_priors_fall_outside_the_rules(gw: Gateway) -> None:
    add_buyer(gw, 2, "192.0.2.9")
    paid(gw, "recent", at=NOW - timedelta(days=60))  # too recent
    paid(gw, "ancient", at=NOW - timedelta(days=400))  # too old
    paid(gw, "stranger", at=NOW - timedelta(days=200), customer="cus_2", device="dev_2")
    disputed = paid(gw, "disputed", at=NOW - timedelta(days=250))
    opened(gw, disputed, "13.1", at=NOW - timedelta(days=240))
    did = opened(gw, paid(gw, "new"), "10.4")
    draft = Disputes(gw).draft(T, did, at=NOW)
    assert "PRIOR_UNDISPUTED_TXNS" not in draft["evidence"]
    [gap] = [m for m in draft["missing"] if m["evidenceTag"] == "PRIOR_UNDISPUTED_TXNS"]
    assert gap["needed"].startswith("Visa CE 3.0 is not_qualified")
    assert "missing_prior_undisputed_transactions" in gap["needed"]
    assert gap["needed"].endswith("found none")
    assert draft["compellingEvidence3"]["state"] == "not_qualified"

    # One qualifying prior is not enough: requires_action, naming the one found.
    one = paid(gw, "one", at=NOW - timedelta(days=150))
    draft = Disputes(gw).draft(T, did, at=NOW)
    [gap] = [m for m in draft["missing"] if m["evidenceTag"] == "PRIOR_UNDISPUTED_TXNS"]
    assert gap["needed"].startswith("Visa CE 3.0 is requires_action")
    assert gap["needed"].endswith(f"found {one}")
    assert "PRIOR_UNDISPUTED_TXNS" not in draft["evidence"]


# ----- nothing invented -------------------------------------------------------------------------


def test_merchant_only_evidence_is_missing_not_invented(gw: Gateway) -> None:
    did = opened(gw, paid(gw, "p1"), "13.1")
    draft = Disputes(gw).draft(T, did, at=NOW)
    assert list(draft["evidence"]) == ["ORDER_INFORMATION"]
    assert draft["missing"] == [
        {"evidenceTag": tag, "winRateContribution": level, "needed": MERCHANT_SUPPLIES[tag]}
        for tag, level in (("DELIVERY_PROOF", "HIGH"), ("LOGISTIC_INFORMATION", "HIGH"),
                           ("CUSTOMER_COMMUNICATION", "MEDIUM"))
    ]  # fmt: skip
    checklist = Disputes(gw).checklist(T, did, at=NOW)
    assert draft["winRate"] == checklist["winRateLevel"] == "LOW"
    assert draft["recommendation"] == ("accept" if checklist["recommendAccept"] else "defend")


def test_fraud_without_3ds_or_device_claims_neither(gw: Gateway) -> None:
    did = opened(gw, paid(gw, "bare", customer=None, device=None), "10.4")
    draft = Disputes(gw).draft(T, did, at=NOW)
    assert list(draft["evidence"]) == ["ORDER_INFORMATION"]
    needed = {m["evidenceTag"]: m["needed"] for m in draft["missing"]}
    assert set(needed) == {"THREE_DS_RESULT", "PRIOR_UNDISPUTED_TXNS", "AVS_CVV_MATCH",
                           "DEVICE_IP_LINK", "DELIVERY_PROOF"}  # fmt: skip
    assert "was not authenticated with 3-D Secure" in needed["THREE_DS_RESULT"]
    assert "no device or IP was recorded" in needed["DEVICE_IP_LINK"]
    assert "customer" not in draft["evidence"]["ORDER_INFORMATION"]
    assert draft["liabilityShift"] is False


def test_refund_proof_only_when_a_refund_exists(gw: Gateway) -> None:
    pid = paid(gw, "p1")
    did = opened(gw, pid, "13.6")
    assert "REFUND_PROOF" in missing_tags(Disputes(gw).draft(T, did, at=NOW))

    other = paid(gw, "p2", amount=30_000)
    gw.refund(T, RefundRequest("m_sg", other, "r1", 10_000, "customer request"), at=NOW)
    did2 = opened(gw, other, "13.6", at=NOW + timedelta(hours=1))
    draft = Disputes(gw).draft(T, did2, at=NOW + timedelta(hours=1))
    [refund] = row(gw, Refund, payment_id=other)
    text = draft["evidence"]["REFUND_PROOF"]
    assert (f"{refund.id} for 100.00 SGD on 2026-11-02 03:00 UTC ({refund.status}, reason: "
            "customer request)") in text  # fmt: skip
    assert "Total refunded 100.00 SGD of 300.00 SGD captured." in text
    assert "refunded 100.00 SGD in 1 refund" in draft["evidence"]["ORDER_INFORMATION"]
    assert "REFUND_POLICY_ACCEPTED" in missing_tags(draft)


def test_duplicate_explanation_only_when_processed_once(gw: Gateway) -> None:
    did = opened(gw, paid(gw, "single", amount=4_500), "12.6")
    text = Disputes(gw).draft(T, did, at=NOW)["evidence"]["DUPLICATE_EXPLANATION"]
    assert "is the only approved payment of 45.00 SGD from the same VISA card ending 1111" in text
    assert "between 2026-10-30 and 2026-11-05" in text

    first = paid(gw, "a", amount=7_700)
    twin = paid(gw, "b", amount=7_700, at=NOW + timedelta(hours=2))
    did2 = opened(gw, first, "12.6", at=NOW + timedelta(hours=3))
    draft = Disputes(gw).draft(T, did2, at=NOW + timedelta(hours=3))
    assert "DUPLICATE_EXPLANATION" not in draft["evidence"]
    [gap] = [m for m in draft["missing"] if m["evidenceTag"] == "DUPLICATE_EXPLANATION"]
    assert twin in gap["needed"] and "separate orders" in gap["needed"]


# ----- read only, submitted as drafted, blocked when it cannot go -----------------------------


def _state(gw: Gateway, did: str) -> tuple[Any, ...]:
    [d] = row(gw, Dispute, id=did)
    items = row(gw, DisputeEvidence, dispute_id=did)
    return (d.status, d.defense, d.defense_submitted_at, d.history,
            sorted((i.tag, i.obtained, i.source, i.content) for i in items))  # fmt: skip


def test_draft_writes_nothing_and_submits_exactly_as_drafted(gw: Gateway) -> None:
    did = opened(gw, paid(gw, "p1", three_ds=True), "10.4")
    before = _state(gw, did)
    draft = Disputes(gw).draft(T, did, at=NOW)
    assert _state(gw, did) == before
    Disputes(gw).submit(T, did, draft["evidence"], at=NOW + timedelta(hours=1))
    stored = {i.tag: i for i in row(gw, DisputeEvidence, dispute_id=did)}
    for tag, text in draft["evidence"].items():
        assert (stored[tag].content, stored[tag].source) == (text, "merchant")
    assert {t for t, i in stored.items() if i.source == "merchant"} == set(draft["evidence"])
    [d] = row(gw, Dispute, id=did)
    assert d.status == "UNDER_REVIEW" and d.defense["CHARGEBACK"]["tags"] == sorted(
        draft["evidence"]
    )

    # Once submitted, a new draft says so and recommends nothing.
    again = Disputes(gw).draft(T, did, at=NOW + timedelta(hours=2))
    assert again["submittable"] is False and again["recommendation"] == "none"
    assert again["blocker"] == "a defence was already submitted at this stage and cannot change"


def test_after_the_deadline_the_draft_is_not_submittable(gw: Gateway) -> None:
    did = opened(gw, paid(gw, "p1", three_ds=True), "10.4")
    [d] = row(gw, Dispute, id=did)
    late = d.defense_due_at + timedelta(hours=1)
    draft = Disputes(gw).draft(T, did, at=late)
    assert draft["submittable"] is False
    assert draft["blocker"] == "the response deadline passed on 2026-11-29 03:00 UTC"
    assert draft["winRate"] == "LOW" and draft["recommendation"] == "accept"
    assert draft["evidence"]  # the facts are still drafted, for the record
    with pytest.raises(Conflict) as err:
        Disputes(gw).submit(T, did, draft["evidence"], at=late)
    assert err.value.code == "time_exceeds_limit"


# ----- the agent tool ---------------------------------------------------------------------------


def ctx(gw: Gateway, merchant: str | None) -> ToolContext:
    return ToolContext(principal=Principal(T, Role.MERCHANT, "key_1", merchant), db=gw.db)


def test_tool_is_read_only_and_merchant_scoped(gw: Gateway) -> None:
    tool = default_registry.get("payments_draft_dispute_response")
    assert tool.kind is ToolKind.READ and tool.description
    did = opened(gw, paid(gw, "p1", three_ds=True, at=utcnow()), "10.4", at=utcnow())
    args = ptools.DisputeArgs(dispute_id=did)
    out = ptools.draft_dispute_response(ctx(gw, "m_sg"), args)
    assert out["disputeId"] == did and out["outcome"] == "drafted_3"
    assert set(out["evidence"]) == {"ORDER_INFORMATION", "THREE_DS_RESULT", "DEVICE_IP_LINK"}
    with pytest.raises(NotFound) as err:
        ptools.draft_dispute_response(ctx(gw, "m_pending"), args)
    assert err.value.code == "dispute_not_found"
    with pytest.raises(NotFound):
        Disputes(gw).draft(T, did, merchant_id="m_pending")
    with pytest.raises(NotFound):
        Disputes(gw).draft("t_other", did)
