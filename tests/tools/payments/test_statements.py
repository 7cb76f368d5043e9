"""The hot path's Core statements bypass the session's tenant scoping, so each names its tenant:
another tenant's merchant, card and balances stay out of reach, and rows are stamped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cockpit.db.session import Database
from cockpit.errors import InternalError, NotFound
from tests.tools.payments.conftest import TENANT, AlwaysApprove, seed_basic
from tools.payments import ledger, statements
from tools.payments.gateway import Gateway, PayRequest
from tools.payments.models import (
    Balance,
    Journal,
    LedgerEntry,
    Merchant,
    Notification,
    Payment,
)

AT = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
OTHER = "t_other"


def test_pay_does_not_reach_another_tenants_merchant_or_card(any_db: Database) -> None:
    seed_basic(any_db, OTHER)  # m_sg and card_visa belong to the other tenant
    with any_db.tenant_session(TENANT) as s:
        s.add(
            Merchant(
                id="m_mine",
                name="L",
                legal_name="L",
                country="SG",
                mcc="5732",
                markets=["SG"],
                settlement_currency="SGD",
                kyb_state="APPROVED",
                webhook_secret="s",
            )
        )
    gw = Gateway(any_db, simulator=AlwaysApprove())
    with pytest.raises(NotFound) as merchant:
        gw.pay(TENANT, PayRequest("m_sg", "p1", 1_000, "SGD", card_id="card_visa"), at=AT)
    assert merchant.value.code == "merchant_not_found"
    with pytest.raises(NotFound) as card:
        gw.pay(TENANT, PayRequest("m_mine", "p2", 1_000, "SGD", card_id="card_visa"), at=AT)
    assert card.value.code == "card_not_found"


def test_a_payment_writes_every_row_under_its_tenant(any_db: Database) -> None:
    seed_basic(any_db)
    gw = Gateway(any_db, simulator=AlwaysApprove())
    view = gw.pay(TENANT, PayRequest("m_sg", "p1", 1_000, "SGD", card_id="card_visa"), at=AT)
    assert view["state"] == "CAPTURED"
    with any_db.tenant_session(OTHER) as s:
        assert s.scalars(select(Payment)).all() == []
        assert s.scalars(select(Notification)).all() == []
        assert ledger.merchant_balances(s, "m_sg") == {}
    with any_db.tenant_session(TENANT) as s:
        assert ledger.merchant_balances(s, "m_sg")["SGD"]["pending"] == 1_000
        notes = sorted(n.notify_type for n in s.scalars(select(Notification)))
        assert notes == ["notifyCapture", "notifyPayment"]
        assert ledger.check_invariants(s) == []


def test_balance_upsert_creates_then_adds_per_tenant(any_db: Database) -> None:
    for tenant, delta in ((TENANT, 5), (OTHER, 7), (TENANT, -2)):
        with any_db.tenant_session(tenant) as s:
            statements.add_to_balances(s.connection(), tenant, [("platform:fees", "SGD", delta)])
    with any_db.tenant_session(TENANT) as s:
        assert ledger.balance(s, "platform:fees", "SGD") == 3
        assert len(s.scalars(select(Balance)).all()) == 1
    with any_db.tenant_session(OTHER) as s:
        assert ledger.balance(s, "platform:fees", "SGD") == 7


def test_insert_refuses_a_row_of_another_tenant(db: Database) -> None:
    note = statements.transient(Notification, id="ntf_x", tenant_id=OTHER)
    with pytest.raises(InternalError) as err, db.tenant_session(TENANT) as s:
        statements.insert(s.connection(), TENANT, [note])
    assert err.value.code == "cross_tenant_write"


def _drafts(tag: str) -> list[ledger.JournalDraft]:
    """Three journals: one in SGD, one across currencies, one with no legs."""
    plain = ledger.JournalDraft("settlement", "capture", f"cap_{tag}_1")
    plain.move(ledger.merchant_account("m_sg", "pending"), ledger.PLATFORM_FEES, 250, "SGD")
    fx = ledger.JournalDraft("settlement", "capture", f"cap_{tag}_2")
    fx.move(ledger.merchant_account("m_sg", "pending"), ledger.fx_clearing("SGD"), 1_000, "SGD")
    fx.move(ledger.fx_clearing("USD"), ledger.merchant_account("m_sg", "available"), 740, "USD")
    return [plain, fx, ledger.JournalDraft("settlement", "capture", f"cap_{tag}_3")]


def _written(
    db: Database, tenant: str
) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int, str]]]:
    with db.tenant_session(tenant) as s:
        balances = sorted(
            (b.account, b.currency, int(b.balance)) for b in s.scalars(select(Balance))
        )
        entries = sorted(
            s.execute(
                select(
                    LedgerEntry.account, LedgerEntry.currency, LedgerEntry.amount, Journal.ref_id
                ).join(Journal, Journal.id == LedgerEntry.journal_id)
            )
            .tuples()
            .all()
        )
        assert ledger.check_invariants(s) == []
    return balances, entries


def test_posting_journals_together_writes_what_posting_them_one_by_one_writes(
    any_db: Database,
) -> None:
    # the ledger needs no merchant row: two tenants, the same drafts, posted both ways
    with any_db.tenant_session(TENANT) as s:
        ids = ledger.post_many(s, _drafts("x"), at=AT)
    with any_db.tenant_session(OTHER) as s:
        one_by_one = [ledger.post(s, draft, at=AT) for draft in _drafts("x")]
    assert ids[2] is None and one_by_one[2] is None
    assert all(i and i.startswith("jnl_") for i in ids[:2]) and len(set(ids[:2])) == 2
    assert _written(any_db, TENANT) == _written(any_db, OTHER)
    assert _written(any_db, TENANT)[0]  # the drafts did move money


def test_one_unbalanced_journal_writes_none_of_the_batch(any_db: Database) -> None:
    bad = ledger.JournalDraft("settlement", "capture", "cap_bad")
    bad.legs.append((ledger.PLATFORM_FEES, "SGD", 5))
    with any_db.tenant_session(TENANT) as s, pytest.raises(InternalError) as err:
        ledger.post_many(s, [*_drafts("y"), bad], at=AT)
    assert err.value.code == "ledger_unbalanced"
    assert _written(any_db, TENANT) == ([], [])
