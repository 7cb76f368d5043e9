"""Applicant validation: missing, out-of-range, wrongly typed and unknown fields."""

from __future__ import annotations

import math
from typing import Any

import pytest

from cockpit.errors import ValidationFailed
from tools.credit.data import GERMAN_FEATURES
from tools.credit.schema import validate_applicant


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("duration_in_month", None, "missing_field"),
        ("duration_in_month", 0, "out_of_range"),
        ("duration_in_month", 500, "out_of_range"),
        ("duration_in_month", 12.5, "invalid_type"),
        ("duration_in_month", "12", "invalid_type"),
        ("duration_in_month", True, "invalid_type"),
        ("credit_amount", math.nan, "out_of_range"),
        ("credit_amount", math.inf, "out_of_range"),
        ("credit_amount", -5, "out_of_range"),
        ("purpose", "yacht", "invalid_category"),
        ("purpose", 3, "invalid_category"),
        ("purpose", ["car (new)"], "invalid_category"),
    ],
)
def test_bad_fields_are_rejected_naming_the_field(
    german_rows: list[dict[str, Any]], field: str, value: Any, code: str
) -> None:
    row = dict(german_rows[0])
    if value is None:
        del row[field]
    else:
        row[field] = value
    with pytest.raises(ValidationFailed) as err:
        validate_applicant(GERMAN_FEATURES, row)
    assert err.value.code == code
    assert err.value.param == f"applicant.{field}"
    assert field in err.value.message


def test_not_an_object_is_rejected() -> None:
    with pytest.raises(ValidationFailed) as err:
        validate_applicant(GERMAN_FEATURES, ["x"])
    assert err.value.param == "applicant"


def test_whole_floats_are_accepted_and_extras_are_kept_unless_forbidden(
    german_rows: list[dict[str, Any]],
) -> None:
    row = {**german_rows[0], "duration_in_month": 12.0, "channel": "web"}
    clean = validate_applicant(GERMAN_FEATURES, row)
    assert clean["duration_in_month"] == 12 and clean["channel"] == "web"
    with pytest.raises(ValidationFailed) as err:
        validate_applicant(GERMAN_FEATURES, row, allow_extra=False)
    assert err.value.code == "unknown_field" and err.value.param == "applicant.channel"


def test_partial_validation_still_range_checks_present_fields() -> None:
    assert validate_applicant(GERMAN_FEATURES, {"age_in_years": 30}, required=frozenset()) == {
        "age_in_years": 30
    }
    with pytest.raises(ValidationFailed):
        validate_applicant(GERMAN_FEATURES, {"age_in_years": 300}, required=frozenset())


def test_numpy_numbers_become_plain_python_numbers(german_rows: list[dict[str, Any]]) -> None:
    import numpy as np

    row = {**german_rows[0], "duration_in_month": np.int64(12), "credit_amount": np.float64(2500.0)}
    clean = validate_applicant(GERMAN_FEATURES, row)
    assert type(clean["duration_in_month"]) is int and clean["duration_in_month"] == 12
    assert type(clean["credit_amount"]) is float
    with pytest.raises(ValidationFailed):
        validate_applicant(GERMAN_FEATURES, {**german_rows[0], "duration_in_month": np.bool_(True)})
