"""Capture, refund and settlement write the payment and capture rows with Core statements, past
the session's identity map: an ORM copy of those rows that the same session holds is read
again afterwards, never left stale, and the payment's version check still holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from cockpit.db.session import Database
from cockpit.errors import NotFound
from tests.tools.payments.conftest import TENANT, AlwaysApprove
from tools.payments import ledger, statements
from tools.payments.gateway import CaptureRequest, Gateway, PayRequest, RefundRequest, load_payment
from tools.payments.models import Capture

NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def _authorised(gw: Gateway) -> str:
    req = PayRequest("m_sg", "p1", 10_000, "SGD", card_id="card_visa", capture_mode="MANUAL")
    return str(gw.pay(TENANT, req, at=NOW)["paymentId"])


def test_a_payment_the_session_holds_is_current_after_capture_and_refund(
    seeded_any: Database,
) -> None:
    gw = Gateway(seeded_any, simulator=AlwaysApprove())
    pid = _authorised(gw)
    with seeded_any.tenant_session(TENANT) as s:
        held = load_payment(s, pid)  # an ORM copy in the session's identity map
        gw.capture_in(s, CaptureRequest("m_sg", pid, "c1", 10_000, is_last=True), at=NOW)
        gw.refund_in(s, RefundRequest("m_sg", pid, "r1", 2_500), at=NOW)
        assert (held.state, held.captured_amount, held.refunded_amount) == (
            "CAPTURED",
            10_000,
            2_500,
        )
        assert held.capture_closed and held.version == 3
        held.description = "written through the ORM after the Core writes"
    with seeded_any.tenant_session(TENANT) as s:
        stored = load_payment(s, pid)
        assert stored.version == 4 and stored.description is not None
        assert stored.refunded_amount == 2_500
        assert ledger.check_invariants(s) == []


def test_a_capture_the_session_holds_is_current_after_settlement(seeded_any: Database) -> None:
    gw = Gateway(seeded_any, simulator=AlwaysApprove())
    gw.pay(TENANT, PayRequest("m_sg", "p1", 10_000, "SGD", card_id="card_visa"), at=NOW)
    later = NOW + timedelta(days=1)
    with seeded_any.tenant_session(TENANT) as s:
        held = s.scalars(select(Capture)).one()
        assert held.settled_at is None
        assert gw.settle_in(s, "m_sg", cutoff=NOW, at=later) == 1
        assert held.settled_at is not None
        assert gw.settle_in(s, "m_sg", cutoff=NOW, at=later) == 0  # nothing settles twice


def test_a_stale_version_is_refused_as_the_orm_refuses_it(seeded_any: Database) -> None:
    gw = Gateway(seeded_any, simulator=AlwaysApprove())
    pid = _authorised(gw)
    with seeded_any.tenant_session(TENANT) as s:
        conn = statements.connection(s)
        payment = statements.locked_payment(conn, TENANT, pid, merchant_id="m_sg")
        assert payment is not None and payment.version == 1
        payment.version = 7  # as if read before another writer's change
        with pytest.raises(StaleDataError):
            statements.update_payment(s, payment, ("state",))
        s.rollback()


def test_another_merchants_or_tenants_payment_is_not_found(seeded_any: Database) -> None:
    gw = Gateway(seeded_any, simulator=AlwaysApprove())
    pid = _authorised(gw)
    with pytest.raises(NotFound) as other_merchant:
        gw.capture(TENANT, CaptureRequest("m_pending", pid, "c1", 100), at=NOW)
    assert other_merchant.value.code == "payment_not_found"
    with seeded_any.tenant_session(TENANT) as s:
        conn = statements.connection(s)
        assert statements.locked_payment(conn, "t_other", pid, merchant_id=None) is None
        assert statements.locked_payment(conn, TENANT, pid, merchant_id=None) is not None
