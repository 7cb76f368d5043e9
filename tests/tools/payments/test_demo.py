"""The demo world: realistic, consistent, idempotent, per-tenant."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from cockpit.db.base import utcnow
from cockpit.db.session import Database
from tools.payments import ledger
from tools.payments.demo import seed_demo_world
from tools.payments.models import Dispute, Merchant, Payment, Refund

NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)


def _counts(db: Database, tenant: str) -> tuple[int, ...]:
    with db.tenant_session(tenant) as s:
        return tuple(
            int(s.scalar(select(func.count()).select_from(m)) or 0)
            for m in (Merchant, Payment, Refund, Dispute)
        )


def test_demo_world_is_consistent_and_idempotent(db: Database) -> None:
    first = seed_demo_world(db, "demo", seed=7, days=45, now=NOW)
    assert first.created and first.payments > 500
    assert first.declined > 0 and first.refunds > 0 and first.cancels >= 0
    assert len(set(first.kyb_states.values())) >= 5  # approved, reserve, EDD, in review, rejected
    assert first.customers == first.devices > 0 and first.cards > 0
    counts = _counts(db, "demo")
    assert counts[1] == first.payments and counts[3] == first.disputes
    again = seed_demo_world(db, "demo", seed=7, days=45, now=NOW)
    assert not again.created and _counts(db, "demo") == counts
    assert again.payments == first.payments
    with db.tenant_session("demo") as s:
        assert ledger.check_invariants(s) == []
        states = set(s.scalars(select(Payment.state).distinct()))
        assert {"CAPTURED", "FAILED"} <= states
        codes = set(
            s.scalars(
                select(Payment.decline_code).where(Payment.decline_code.is_not(None)).distinct()
            )
        )
        assert len(codes) >= 5
        inactive = s.scalars(
            select(Merchant.id).where(Merchant.kyb_state.in_(("IN_REVIEW", "EDD", "REJECTED")))
        )
        assert not s.scalar(
            select(func.count()).select_from(Payment).where(Payment.merchant_id.in_(list(inactive)))
        )


def test_two_tenants_get_separate_worlds(db: Database) -> None:
    a = seed_demo_world(db, "tenant_a", days=5, now=NOW)
    b = seed_demo_world(db, "tenant_b", days=5, now=NOW)
    assert set(a.merchant_ids.values()).isdisjoint(b.merchant_ids.values())
    assert _counts(db, "tenant_a")[1] == a.payments and _counts(db, "tenant_b")[1] == b.payments


@pytest.mark.slow  # seeds the full 180-day world (several seconds)
def test_startup_hook_seeds_demo_tenant_in_background(db: Database) -> None:
    from types import SimpleNamespace

    from tools.payments.gateway import Gateway
    from tools.payments.startup import GATEWAY_KEY, SEED_THREAD_KEY, on_startup

    services = SimpleNamespace(db=db, settings=SimpleNamespace(demo=True), extras={})
    on_startup(services)
    assert isinstance(services.extras[GATEWAY_KEY], Gateway)
    services.extras[SEED_THREAD_KEY].join(timeout=240)
    assert _counts(db, "demo")[1] > 1000  # 180 days of traffic
    with db.tenant_session("demo") as s:
        # Nothing still waits for a response after its deadline: late stages timed out.
        waiting = s.scalars(select(Dispute).where(Dispute.status == "NEEDS_RESPONSE")).all()
        now = utcnow()
        due = [d.defense_due_at.replace(tzinfo=d.defense_due_at.tzinfo or UTC) for d in waiting]
        assert due and all(when > now for when in due), due
    quiet = SimpleNamespace(db=db, settings=SimpleNamespace(demo=False), extras={})
    on_startup(quiet)
    assert SEED_THREAD_KEY not in quiet.extras
