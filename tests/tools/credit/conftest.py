"""Fixtures for the credit tests: the built-in cards, shipped strategies, a migrated database."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cockpit.db.session import Database
from tests.support.migrated import migrated_sqlite
from tools.credit.catalog import builtin_scorecard
from tools.credit.data import load_german_credit
from tools.credit.scorecard import Scorecard
from tools.credit.service import CreditService

STRATEGIES = Path(__file__).parents[3] / "tools" / "credit" / "strategies"


@pytest.fixture(scope="session")
def german_card() -> Scorecard:
    return builtin_scorecard("german_credit")


@pytest.fixture(scope="session")
def german_rows() -> list[dict[str, Any]]:
    frame, _ = load_german_credit()
    return frame.to_dict("records")


@pytest.fixture(scope="session")
def german_frame() -> pd.DataFrame:
    return load_german_credit()[0]


def _load(name: str) -> dict[str, Any]:
    return json.loads((STRATEGIES / f"{name}.json").read_text())


@pytest.fixture
def consumer_spec() -> dict[str, Any]:
    return copy.deepcopy(_load("consumer_default"))


@pytest.fixture
def merchant_spec() -> dict[str, Any]:
    return copy.deepcopy(_load("merchant_default"))


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return migrated_sqlite(tmp_path / "credit.db")


@pytest.fixture
def service(db: Database) -> CreditService:
    return CreditService(db)
