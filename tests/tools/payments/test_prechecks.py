"""State awareness: a payments WRITE that cannot succeed is refused by its precheck, in the
merchant's words, with the same code the write path would raise (one check, two callers);
ids of the wrong kind are a 422 naming the argument; a payment read says who paid."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cockpit.clock import utcnow
from cockpit.errors import CockpitError, Conflict, ValidationFailed
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit import ToolContext, default_registry
from tools.payments import tools as ptools
from tools.payments.disputes import Disputes
from tools.payments.gateway import Gateway, PayRequest
from tools.payments.simulator import AuthDecision, IssuerSimulator

T = "t_test"
NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


class Declines51(IssuerSimulator):
    def decide(self, ctx: Any) -> Any:
        return AuthDecision(approved=False, code="51", cause="insufficient funds")


def ctx(db: Any, key: str | None = None) -> ToolContext:
    return ToolContext(
        principal=Principal(T, Role.MERCHANT, "key_1", "m_sg"), db=db, idempotency_key=key
    )


def _precheck(name: str, c: ToolContext, **args: Any) -> None:
    tool = default_registry.get(name)
    assert tool.precheck is not None
    tool.precheck(c, tool.args.model_validate(args))


def _refused(name: str, c: ToolContext, **args: Any) -> CockpitError:
    with pytest.raises(CockpitError) as err:
        _precheck(name, c, **args)
    return err.value


def _paid(gw: Gateway, ref: str = "p1", **kw: Any) -> str:
    req = PayRequest("m_sg", ref, 10_000, "SGD", card_id="card_visa", customer_id="cus_1",
                     device_id="dev_1", **kw)  # fmt: skip
    return str(gw.pay(T, req, at=utcnow())["paymentId"])


def test_the_money_moving_writes_have_prechecks() -> None:
    for name in (
        "payments_refund",
        "payments_capture",
        "payments_cancel",
        "payments_submit_dispute_response",
        "payments_accept_dispute",
    ):
        assert default_registry.get(name).precheck is not None, name


def test_refund_of_a_declined_payment_is_refused_in_merchant_words(seeded: Any) -> None:
    gw = Gateway(seeded, simulator=Declines51())
    pid = _paid(gw)
    err = _refused("payments_refund", ctx(seeded), payment_id=pid, amount=500, currency="SGD")
    assert (err.code, err.param) == ("payment_not_captured", "payment_id")
    assert err.message == f"{pid} was declined (code 51), so there is nothing to refund"
    # The write path raises exactly the same error: one domain check, two callers.
    with pytest.raises(Conflict) as write:
        ptools.refund(
            ctx(seeded, "k1"), ptools.RefundArgs(payment_id=pid, amount=500, currency="SGD")
        )
    assert (write.value.code, write.value.message) == (err.code, err.message)
    # Cancelling it is refused too: there is nothing to cancel.
    assert _refused("payments_cancel", ctx(seeded), payment_id=pid).code == "payment_already_final"


def test_refund_above_what_is_left_and_in_another_currency(gw: Gateway) -> None:
    pid = _paid(gw)
    _precheck("payments_refund", ctx(gw.db), payment_id=pid, amount=10_000, currency="SGD")
    ptools.refund(ctx(gw.db, "k1"), ptools.RefundArgs(payment_id=pid, amount=2_500, currency="SGD"))
    err = _refused("payments_refund", ctx(gw.db), payment_id=pid, amount=8_000, currency="SGD")
    assert (err.code, err.param) == ("refund_amount_exceed", "amount")
    assert "only 75.00 SGD" in err.message and "2,500" not in err.message
    assert "25.00 SGD already refunded" in err.message
    err = _refused("payments_refund", ctx(gw.db), payment_id=pid, amount=100, currency="USD")
    assert (err.code, err.param) == ("currency_mismatch", "currency")
    assert err.message.startswith(f"{pid} is in SGD, not USD")
    ptools.refund(ctx(gw.db, "k2"), ptools.RefundArgs(payment_id=pid, amount=7_500, currency="SGD"))
    err = _refused("payments_refund", ctx(gw.db), payment_id=pid, amount=1, currency="SGD")
    assert err.code == "refund_amount_exceed" and "already refunded in full" in err.message


def test_a_captured_card_payment_cannot_be_cancelled(gw: Gateway) -> None:
    pid = _paid(gw)
    err = _refused("payments_cancel", ctx(gw.db), payment_id=pid)
    assert err.code == "cancel_after_capture"
    assert "already captured" in err.message and "refund it instead" in err.message
    # An authorised, not yet captured card payment can be cancelled, and captured.
    held = _paid(gw, "p2", capture_mode="MANUAL")
    _precheck("payments_cancel", ctx(gw.db), payment_id=held)
    _precheck("payments_capture", ctx(gw.db), payment_id=held, amount=10_000, currency="SGD")
    err = _refused("payments_capture", ctx(gw.db), payment_id=held, amount=10_001, currency="SGD")
    assert err.code == "capture_amount_exceed" and "100.00 SGD" in err.message
    # ...but an automatically captured one has nothing left to capture.
    err = _refused("payments_capture", ctx(gw.db), payment_id=pid, amount=1, currency="SGD")
    assert err.code == "capture_not_manual"


def test_dispute_actions_check_the_dispute_state(gw: Gateway) -> None:
    pid = _paid(gw)
    did = Disputes(gw).open(T, pid, "13.1", at=utcnow())["disputeId"]
    err = _refused("payments_refund", ctx(gw.db), payment_id=pid, amount=100, currency="SGD")
    assert err.code == "payment_disputed" and "under dispute" in err.message
    _precheck("payments_accept_dispute", ctx(gw.db), dispute_id=did, amount=10_000, currency="SGD")
    err = _refused("payments_accept_dispute", ctx(gw.db), dispute_id=did, amount=1, currency="SGD")
    assert err.code == "amount_mismatch" and "100.00 SGD" in err.message
    evidence = {"DELIVERY_PROOF": "Signed POD"}
    _precheck("payments_submit_dispute_response", ctx(gw.db), dispute_id=did, evidence=evidence)
    ptools.submit_dispute_response(
        ctx(gw.db, "s1"), ptools.DisputeResponseArgs(dispute_id=did, evidence=evidence)
    )
    err = _refused("payments_accept_dispute", ctx(gw.db), dispute_id=did, amount=10_000,
                   currency="SGD")  # fmt: skip
    assert err.code == "not_allow_in_current_status"
    assert (
        err.message
        == f"{did} was already answered and is under review, so it cannot be accepted now"
    )
    err = _refused("payments_submit_dispute_response", ctx(gw.db), dispute_id=did,
                   evidence=evidence)  # fmt: skip
    assert err.code == "defense_already_submitted"


def test_ids_of_the_wrong_kind_are_a_422_naming_the_argument(gw: Gateway) -> None:
    pid = _paid(gw)
    did = Disputes(gw).open(T, pid, "13.1", at=utcnow())["disputeId"]
    with pytest.raises(ValidationFailed) as err:
        ptools.get_payment(ctx(gw.db), ptools.PaymentArgs(payment_id=did))
    assert (err.value.code, err.value.param) == ("wrong_id_kind", "payment_id")
    assert (
        err.value.message
        == f"payment_id: {did!r} is a dispute id, not a payment id (payment ids start with pay_)"
    )
    with pytest.raises(ValidationFailed):
        ptools.dispute_details(ctx(gw.db), ptools.DisputeArgs(dispute_id=pid))
    err2 = _refused("payments_refund", ctx(gw.db), payment_id=did, amount=1, currency="SGD")
    assert (err2.code, err2.param) == ("wrong_id_kind", "payment_id")
    err2 = _refused("payments_accept_dispute", ctx(gw.db), dispute_id=pid, amount=1, currency="SGD")
    assert (err2.code, err2.param) == ("wrong_id_kind", "dispute_id")
    with pytest.raises(ValidationFailed):
        ptools.balances(ctx(gw.db), ptools.MerchantArgs(merchant_id=pid))


def test_a_payment_read_says_who_paid(gw: Gateway) -> None:
    pid = _paid(gw)
    view = ptools.get_payment(ctx(gw.db), ptools.PaymentArgs(payment_id=pid))
    ents = view["entities"]
    assert (ents["customer"], ents["card"], ents["device"], ents["ip"]) == (
        "cus_1", "card_visa", "dev_1", "203.0.113.7",
    )  # fmt: skip
    assert ents["cardDetails"]["last4"] == "1111" and ents["cardDetails"]["brand"] == "VISA"
    assert view["refundableAmount"] == {"currency": "SGD", "value": "10000"}
    # A payment without a stored device has none to block: null, never the payment id.
    bare = str(
        gw.pay(T, PayRequest("m_sg", "p9", 500, "SGD", card_id="card_mc"), at=utcnow())["paymentId"]
    )
    assert (
        ptools.get_payment(ctx(gw.db), ptools.PaymentArgs(payment_id=bare))["entities"]["device"]
        is None
    )
