"""The demo tenant's customers: how the composition root hands them to the fraud simulator.

The payments demo world's customers, cards and devices are what the fraud demo history should
replay, but fraud never imports payments. The composition root puts a callable giving them in
``extras`` under :data:`DEMO_CUSTOMERS_KEY`; :mod:`tools.fraud.service` reads it. This module
must stay free of the model's imports (LightGBM, pandas, scikit-learn, SciPy): the composition
root imports it at every start, whether or not anything is ever scored.
"""

from __future__ import annotations

DEMO_CUSTOMERS_KEY = "fraud_demo_customers"
"""``extras`` entry: a callable giving the demo tenant's customers (the composition root sets it)."""

__all__ = ["DEMO_CUSTOMERS_KEY"]
