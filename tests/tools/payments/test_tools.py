"""Agent tools: registration, READ results, WRITE idempotency on ctx.idempotency_key, scoping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from cockpit.clock import utcnow
from cockpit.errors import Conflict, NotFound, ToolError
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit import ToolContext, ToolKind, default_registry
from tools.payments import tools as ptools
from tools.payments.disputes import Disputes
from tools.payments.gateway import Gateway, PayRequest
from tools.payments.models import Refund

T = "t_test"
NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def ctx(gw: Gateway, key: str | None = None, *, merchant: str | None = None) -> ToolContext:
    return ToolContext(
        principal=Principal(T, Role.MERCHANT, "key_1", merchant), db=gw.db, idempotency_key=key
    )


def test_registered_with_kinds_and_money_fields() -> None:
    names = {n for n in default_registry.names() if n.startswith("payments_")}
    assert {"payments_get_payment", "payments_search", "payments_explain_decline", "payments_list_disputes",
            "payments_dispute_details", "payments_success_rate_report", "payments_merchant_kyb_status",
            "payments_balances", "payments_refund", "payments_capture", "payments_cancel",
            "payments_submit_dispute_response", "payments_accept_dispute"} <= names  # fmt: skip
    refund = default_registry.get("payments_refund")
    assert refund.kind is ToolKind.WRITE and (refund.amount_field, refund.currency_field) == (
        "amount",
        "currency",
    )
    assert default_registry.get("payments_accept_dispute").amount_field == "amount"
    assert default_registry.get("payments_get_payment").kind is ToolKind.READ
    assert all(default_registry.get(n).description for n in names)


def test_refund_tool_is_idempotent_on_key(gw: Gateway) -> None:
    pid = gw.pay(T, PayRequest("m_sg", "p1", 10_000, "SGD", card_id="card_visa"), at=NOW)[
        "paymentId"
    ]
    args = ptools.RefundArgs(payment_id=pid, amount=2_500, currency="sgd")
    first = ptools.refund(ctx(gw, "thread1:call1"), args)
    again = ptools.refund(ctx(gw, "thread1:call1"), args)
    assert first == again and first["refundAmount"] == {"currency": "SGD", "value": "2500"}
    with pytest.raises(Conflict) as err:
        ptools.refund(
            ctx(gw, "thread1:call1"),
            ptools.RefundArgs(payment_id=pid, amount=2_600, currency="SGD"),
        )
    assert err.value.code == "idempotency_key_reused"
    ptools.refund(ctx(gw, "thread1:call2"), args)  # a new key is a new refund
    with gw.db.tenant_session(T) as s:
        assert s.scalar(select(func.count()).select_from(Refund)) == 2
    with pytest.raises(ToolError) as nokey:
        ptools.refund(ctx(gw, None), args)
    assert nokey.value.code == "idempotency_key_required"
    with pytest.raises(Conflict) as ccy:
        ptools.refund(ctx(gw, "k9"), ptools.RefundArgs(payment_id=pid, amount=1, currency="USD"))
    assert ccy.value.code == "currency_mismatch"


def test_merchant_bound_caller_is_scoped(gw: Gateway) -> None:
    pid = gw.pay(T, PayRequest("m_sg", "p1", 10_000, "SGD", card_id="card_visa"), at=NOW)[
        "paymentId"
    ]
    assert (
        ptools.get_payment(ctx(gw, merchant="m_sg"), ptools.PaymentArgs(payment_id=pid))[
            "paymentId"
        ]
        == pid
    )
    with pytest.raises(NotFound):
        ptools.get_payment(ctx(gw, merchant="m_pending"), ptools.PaymentArgs(payment_id=pid))
    with pytest.raises(NotFound):
        ptools.refund(
            ctx(gw, "k", merchant="m_pending"),
            ptools.RefundArgs(payment_id=pid, amount=1, currency="SGD"),
        )
    with pytest.raises(NotFound):
        ptools.balances(ctx(gw, merchant="m_pending"), ptools.MerchantArgs(merchant_id="m_sg"))
    bal = ptools.balances(ctx(gw, merchant="m_sg"), ptools.MerchantArgs())
    assert bal["balances"]["SGD"]["pending"] == 10_000
    kyb = ptools.merchant_kyb_status(ctx(gw), ptools.MerchantArgs(merchant_id="m_pending"))
    assert kyb["kybState"] == "IN_REVIEW" and kyb["canTransact"] is False


def test_dispute_tools_and_explain_decline(gw: Gateway) -> None:
    pid = gw.pay(T, PayRequest("m_sg", "p1", 10_000, "SGD", card_id="card_visa"), at=NOW)[
        "paymentId"
    ]
    did = Disputes(gw).open(T, pid, "13.1", at=utcnow())["disputeId"]
    listed = ptools.list_disputes(ctx(gw), ptools.ListDisputesArgs(status="NEEDS_RESPONSE"))
    assert [d["disputeId"] for d in listed["disputes"]] == [did]
    detail = ptools.dispute_details(ctx(gw), ptools.DisputeArgs(dispute_id=did))
    assert detail["checklist"]["winRateLevel"] == "LOW"
    with pytest.raises(Conflict) as wrong:
        ptools.accept_dispute(
            ctx(gw, "a1"), ptools.AcceptDisputeArgs(dispute_id=did, amount=1, currency="SGD")
        )
    assert wrong.value.code == "amount_mismatch"
    sub = ptools.submit_dispute_response(
        ctx(gw, "s1"),
        ptools.DisputeResponseArgs(dispute_id=did, evidence={"DELIVERY_PROOF": "POD"}),
    )
    assert sub["status"] == "UNDER_REVIEW"
    assert (
        ptools.submit_dispute_response(
            ctx(gw, "s1"),
            ptools.DisputeResponseArgs(dispute_id=did, evidence={"DELIVERY_PROOF": "POD"}),
        )
        == sub
    )
    with pytest.raises(Conflict) as late:
        ptools.accept_dispute(
            ctx(gw, "a2"), ptools.AcceptDisputeArgs(dispute_id=did, amount=10_000, currency="SGD")
        )
    assert late.value.code == "not_allow_in_current_status"
    explained = ptools.explain_decline(ctx(gw), ptools.PaymentArgs(payment_id=pid))
    assert explained["declined"] is False
    report = ptools.success_rate_report(ctx(gw), ptools.SuccessRateArgs(days=365))
    assert report["rates"]["attempts"] >= 0 and "topLevers" in report
