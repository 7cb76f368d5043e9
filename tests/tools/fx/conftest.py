"""Fixtures for the FX tests: small synthetic series (fast) and seeded volume records."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from tools.fx import Volume


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.fixture
def daily_records() -> list[Volume]:
    """Two years of daily volumes: USD receivables with a weekly pattern, SGD payables."""
    gen = np.random.default_rng(11)
    out: list[Volume] = []
    start = date(2025, 1, 1)
    for i in range(420):
        d = start + timedelta(days=i)
        weekend = 1.6 if d.weekday() >= 5 else 1.0
        out.append(Volume(d, "USD", float(10_000 * weekend * np.exp(gen.normal(0, 0.05))), "m1"))
        out.append(Volume(d, "USD", float(-2_000 * np.exp(gen.normal(0, 0.05))), "m2"))
        out.append(Volume(d, "SGD", float(-4_000 * weekend * np.exp(gen.normal(0, 0.05))), "m1"))
    return out
