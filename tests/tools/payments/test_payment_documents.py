"""Documents attached to a payment become dispute evidence: checklist rows and draft text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cockpit.errors import NotFound, ValidationFailed
from tools.payments.disputes import Disputes
from tools.payments.documents import attach, documents_for, evidence_by_tag
from tools.payments.gateway import Gateway, PayRequest
from tools.payments.reasons import AGENT_AUTHORIZATION

T = "t_test"
NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
MANDATE = (
    "The buyer's agent held a mandate signed by the buyer's key for exactly this cart "
    "(2 × Trail Tent 2P, checkout hash q8mF…), verified at checkout."
)
CART = "Cart as the merchant signed it: 2 × Trail Tent 2P at SGD 150.00, standard shipping."


def _paid(gw: Gateway, rid: str) -> str:
    r = gw.pay(
        T, PayRequest("m_sg", rid, 30_000, "SGD", card_id="card_visa"), at=NOW - timedelta(days=3)
    )
    assert r["state"] == "CAPTURED"
    return str(r["paymentId"])


def _attach(gw: Gateway, payment_id: str) -> None:
    with gw.db.tenant_session(T) as s:
        attach(
            s,
            payment_id,
            kind="agentic_checkout",
            at=NOW - timedelta(days=3),
            body={"id": "cs_1"},
            evidence={AGENT_AUTHORIZATION: MANDATE, "PRODUCT_DESCRIPTION": CART},
        )


def test_a_fraud_dispute_counts_the_mandate_as_high_evidence_and_the_draft_quotes_it(
    gw: Gateway,
) -> None:
    pid = _paid(gw, "agent-order-1")
    _attach(gw, pid)
    disputes = Disputes(gw)
    did = str(disputes.open(T, pid, "10.4", at=NOW)["disputeId"])
    checklist = disputes.checklist(T, did, at=NOW)
    rows = {e["evidenceTag"]: e for e in checklist["evidenceList"]}
    assert rows[AGENT_AUTHORIZATION] == {
        "evidenceTag": AGENT_AUTHORIZATION,
        "winRateContribution": "HIGH",
        "obtained": True,
        "source": "document",
    }
    draft = disputes.draft(T, did, at=NOW)
    assert draft["evidence"][AGENT_AUTHORIZATION] == MANDATE
    assert "agentic_checkout" in draft["notes"][0]
    # The response can carry the drafted tag (it is a known evidence tag).
    submitted = disputes.submit(T, did, {AGENT_AUTHORIZATION: MANDATE}, at=NOW)
    assert submitted["status"] != "NEEDS_RESPONSE"


def test_a_document_fills_a_tag_only_the_merchant_could_supply(gw: Gateway) -> None:
    pid = _paid(gw, "agent-order-2")
    _attach(gw, pid)
    disputes = Disputes(gw)
    did = str(disputes.open(T, pid, "13.3", at=NOW)["disputeId"])  # not as described
    draft = disputes.draft(T, did, at=NOW)
    assert "PRODUCT_DESCRIPTION" not in {m["evidenceTag"] for m in draft["missing"]}
    assert draft["evidence"]["PRODUCT_DESCRIPTION"] == CART
    # A non-fraud reason weighs the mandate as supporting, not decisive, evidence.
    rows = {e["evidenceTag"]: e for e in disputes.checklist(T, did, at=NOW)["evidenceList"]}
    assert rows[AGENT_AUTHORIZATION]["winRateContribution"] == "MEDIUM"


def test_a_payment_without_documents_drafts_as_before(gw: Gateway) -> None:
    pid = _paid(gw, "plain-order")
    disputes = Disputes(gw)
    did = str(disputes.open(T, pid, "10.4", at=NOW)["disputeId"])
    draft = disputes.draft(T, did, at=NOW)
    assert AGENT_AUTHORIZATION not in draft["evidence"]
    assert draft["notes"][0].startswith("The gateway holds no order contents")


def test_attach_refuses_unknown_tags_long_text_and_other_tenants_payments(gw: Gateway) -> None:
    pid = _paid(gw, "agent-order-3")
    with gw.db.tenant_session(T) as s, pytest.raises(ValidationFailed):
        attach(s, pid, kind="x", evidence={"MADE_UP": "text"}, body={}, at=NOW)
    with gw.db.tenant_session(T) as s, pytest.raises(ValidationFailed):
        attach(s, pid, kind="x", evidence={AGENT_AUTHORIZATION: "x" * 513}, body={}, at=NOW)
    with gw.db.tenant_session("t_other") as s, pytest.raises(NotFound):
        attach(s, pid, kind="x", evidence={AGENT_AUTHORIZATION: "x"}, body={}, at=NOW)
    with gw.db.tenant_session(T) as s:
        assert documents_for(s, pid) == [] and evidence_by_tag(s, pid) == {}
