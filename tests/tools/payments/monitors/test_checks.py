"""Each monitor fires on a constructed world, stays silent on a healthy one, and draws its line
exactly at its threshold."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cockpit.db.session import Database
from tests.tools.payments.monitors import world
from tests.tools.payments.monitors.world import NOW, TENANT
from tools.payments.models import Merchant
from tools.payments.money import FixedRates
from tools.payments.monitors.base import CheckContext, Finding
from tools.payments.monitors.catalogue import MONITORS
from tools.payments.monitors.schedules import params_of


def check(db: Database, monitor: str, merchant_id: str = "mer_mon", **params: Any) -> list[Finding]:
    spec = MONITORS[monitor]
    with db.tenant_session(TENANT) as s:
        m = s.get(Merchant, merchant_id)
        assert m is not None
        ctx = CheckContext(session=s, merchant=m, now=NOW, params=params_of(spec, params))
        return spec.check(ctx)


# ----- success-rate drop ------------------------------------------------------------------


def _traffic(db: Database, *, base_ok: int, base_ko: int, ok: int, ko: int) -> None:
    old = NOW - timedelta(days=3)
    world.payments(db, "mer_mon", base_ok, at=old)
    world.payments(db, "mer_mon", base_ko, at=old, approved=False)
    world.payments(db, "mer_mon", ok)
    world.payments(db, "mer_mon", ko, approved=False)


def test_success_rate_drop_fires_with_the_figures(db: Database) -> None:
    world.merchant(db)
    _traffic(db, base_ok=90, base_ko=10, ok=30, ko=10)  # 90% → 75%
    (f,) = check(db, "success_rate_drop")
    assert (f.severity, f.monitor, f.merchant_id) == ("critical", "success_rate_drop", "mer_mon")
    assert f.figures["successRate"] == 0.75 and f.figures["baselineSuccessRate"] == 0.9
    assert f.figures["dropPoints"] == 0.15 and f.figures["attempts"] == 40
    assert "75.0%" in f.summary and "90.0%" in f.summary and "15.0 points" in f.summary
    assert f.dedup_key == "success_rate_drop:mer_mon:2026-11-25:critical"


def test_success_rate_drop_is_exact_at_the_threshold(db: Database) -> None:
    world.merchant(db)
    _traffic(db, base_ok=90, base_ko=10, ok=34, ko=6)  # 90% → 85%: exactly 5 points
    (f,) = check(db, "success_rate_drop")
    assert f.severity == "warning" and f.figures["dropPoints"] == 0.05
    assert check(db, "success_rate_drop", drop_points=0.0501) == []


def test_success_rate_drop_is_silent_on_healthy_or_thin_traffic(db: Database) -> None:
    world.merchant(db)
    _traffic(db, base_ok=90, base_ko=10, ok=36, ko=4)  # 90% → 90%
    assert check(db, "success_rate_drop") == []
    # A collapse on too few payments is noise: below the minimum volume nothing fires.
    world.merchant(db, "mer_thin")
    world.payments(db, "mer_thin", 100, at=NOW - timedelta(days=2))
    world.payments(db, "mer_thin", 29, approved=False)
    assert check(db, "success_rate_drop", "mer_thin") == []
    assert len(check(db, "success_rate_drop", "mer_thin", min_attempts=29)) == 1


# ----- VAMP / ECM -------------------------------------------------------------------------


def _mastercard_month(db: Database, disputes: int, sales: int) -> None:
    world.disputes(db, "mer_mon", disputes, network="MASTERCARD", opened=NOW - timedelta(days=2))
    world.payments(db, "mer_mon", sales - disputes, brand="MASTERCARD", at=NOW - timedelta(days=5))


def test_ecm_proximity_warns_at_exactly_80_percent_of_both_thresholds(db: Database) -> None:
    world.merchant(db)
    _mastercard_month(db, disputes=80, sales=6667)  # 80 ≥ 0.8 × 100; 1.2% ≥ 0.8 × 1.5%
    (f,) = check(db, "scheme_program_proximity")
    assert f.severity == "warning" and f.figures["programme"] == "ECM"
    assert f.figures["disputes"] == 80 and f.figures["countShare"] == 0.8
    assert "ECM" in f.summary and "80 Mastercard disputes" in f.summary
    assert f.dedup_key == "scheme_program_proximity:mer_mon:ECM:2026-11:warning"
    # One dispute short of 80% of the count is silent.
    assert check(db, "scheme_program_proximity", proximity=0.81) == []


def test_ecm_flagged_is_critical_and_a_low_ratio_is_silent(db: Database) -> None:
    world.merchant(db)
    _mastercard_month(db, disputes=100, sales=6000)  # ≥ 100 and 1.67% ≥ 1.5%: in ECM
    found = {f.figures["programme"]: f for f in check(db, "scheme_program_proximity")}
    assert found["ECM"].severity == "critical" and found["ECM"].figures["flagged"] is True
    assert "HECM" not in found  # 100 of 300 is far from HECM
    world.merchant(db, "mer_big")
    world.disputes(db, "mer_big", 100, network="MASTERCARD", opened=NOW - timedelta(days=2))
    world.payments(db, "mer_big", 20_000, brand="MASTERCARD", at=NOW - timedelta(days=5))
    assert check(db, "scheme_program_proximity", "mer_big") == []  # 0.5%: nowhere near


def test_last_months_disputes_do_not_count(db: Database) -> None:
    world.merchant(db)
    world.disputes(db, "mer_mon", 120, network="MASTERCARD", opened=NOW - timedelta(days=40))
    assert check(db, "scheme_program_proximity") == []


# ----- dispute deadlines ------------------------------------------------------------------


def test_dispute_deadline_within_n_days_warns_and_close_is_critical(db: Database) -> None:
    world.merchant(db)
    (soon,) = world.disputes(db, "mer_mon", 1, due=NOW + timedelta(days=1))
    (edge,) = world.disputes(db, "mer_mon", 1, due=NOW + timedelta(days=5))
    world.disputes(db, "mer_mon", 1, due=NOW + timedelta(days=5, seconds=1))  # too far
    world.disputes(db, "mer_mon", 1, due=NOW - timedelta(hours=1))  # passed: nothing to do
    world.disputes(db, "mer_mon", 1, due=NOW + timedelta(days=1), status="UNDER_REVIEW")
    found = {f.figures["disputeId"]: f for f in check(db, "dispute_deadline")}
    assert set(found) == {soon, edge}
    assert found[soon].severity == "critical" and found[soon].figures["hoursLeft"] == 24
    assert found[edge].severity == "warning" and found[edge].figures["daysLeft"] == 5.0
    assert soon in found[soon].summary and "in 24 hours" in found[soon].summary


def test_no_dispute_due_is_silent(db: Database) -> None:
    world.merchant(db)
    world.disputes(db, "mer_mon", 3, due=NOW + timedelta(days=20))
    assert check(db, "dispute_deadline") == []


# ----- KYB documents ----------------------------------------------------------------------


def test_missing_kyb_documents_are_named_and_block_when_not_approved(db: Database) -> None:
    detail = {"step": "ownership and documents", "missing": ["UBO_PROVE", "ADDRESS_PROOF"]}
    world.merchant(db, kyb_state="IN_REVIEW", kyb_detail=detail)
    (f,) = check(db, "kyb_missing_documents")
    assert f.severity == "critical" and f.figures["missingDocuments"] == [
        "ADDRESS_PROOF",
        "UBO_PROVE",
    ]
    assert (
        "2 documents" in f.summary and "beneficial owner" in f.summary and "IN_REVIEW" in f.summary
    )
    assert f.dedup_key == "kyb_missing_documents:mer_mon:ADDRESS_PROOF+UBO_PROVE"


def test_kyb_complete_or_rejected_is_silent(db: Database) -> None:
    world.merchant(db, kyb_detail={"reserve": "10%"})
    assert check(db, "kyb_missing_documents") == []
    world.merchant(db, "mer_rej", kyb_state="REJECTED", kyb_detail={"missing": ["UBO_PROVE"]})
    assert check(db, "kyb_missing_documents", "mer_rej") == []
    world.merchant(db, "mer_ok", kyb_state="APPROVED", kyb_detail={"missing": ["LOGO"]})
    (f,) = check(db, "kyb_missing_documents", "mer_ok")
    assert f.severity == "warning"  # it can still take payments


# ----- FX exposure ------------------------------------------------------------------------


def test_fx_exposure_over_the_merchants_limit_fires_and_at_the_limit_is_silent(
    db: Database,
) -> None:
    # A USD amount worth a whole number of SGD, so the limit can sit exactly on it.
    amount = next(
        a
        for a in range(3_000_000, 3_001_000)
        if FixedRates().convert(a, "USD", "SGD").target_minor % 100 == 0
    )
    valued = FixedRates().convert(amount, "USD", "SGD").target_minor
    world.merchant(db)  # settles in SGD
    world.captures(db, "mer_mon", 5_000_000, "SGD")  # home currency: no exposure
    world.captures(db, "mer_mon", amount, "USD")
    (f,) = check(db, "fx_exposure_limit", limit=10_000)
    assert f.figures["currency"] == "USD" and f.figures["limitSource"] == "merchant"
    assert f.figures["netExposureInSettlement"] == {"currency": "SGD", "value": str(valued)}
    assert f.figures["limit"] == {"currency": "SGD", "value": "1000000"}
    assert f.severity == "critical"  # over 1.5 × the limit
    assert "USD" in f.summary and "10,000.00 SGD" in f.summary
    # Exactly at the limit is not over it; one unit under it is.
    assert check(db, "fx_exposure_limit", limit=valued // 100) == []
    (g,) = check(db, "fx_exposure_limit", limit=valued // 100 - 1)
    assert g.severity == "warning"


def test_fx_exposure_under_the_default_limit_is_silent(db: Database) -> None:
    world.merchant(db)
    world.captures(db, "mer_mon", 1_000_000, "USD")  # 10,000 USD < 50,000 EUR
    assert check(db, "fx_exposure_limit") == []
    world.captures(db, "mer_mon", 9_000_000, "USD", at=NOW - timedelta(days=40))  # too old
    assert check(db, "fx_exposure_limit") == []


@pytest.mark.parametrize("name", sorted(MONITORS))
def test_every_monitor_is_silent_on_an_empty_healthy_merchant(db: Database, name: str) -> None:
    world.merchant(db)
    assert check(db, name) == []
