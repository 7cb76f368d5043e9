"""Backtests: consistent counts, the cost matrix, champion comparison, portfolio checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cockpit.errors import ValidationFailed
from tools.credit.backtest import backtest
from tools.credit.catalog import builtin_scorecard, portfolio
from tools.credit.strategy import CompiledStrategy, parse_spec


def _compiled(body: dict[str, Any], vid: str) -> CompiledStrategy:
    spec = parse_spec(body)
    return CompiledStrategy(vid, spec, builtin_scorecard(spec.scorecard))


def test_backtest_counts_and_costs_add_up(consumer_spec: dict[str, Any]) -> None:
    pf = portfolio("german_credit_holdout")
    rep = backtest(_compiled(consumer_spec, "v1"), pf)
    m = rep.strategy
    assert m.approved + m.referred + m.declined == m.n == 300
    assert rep.reject_all_cost == pytest.approx(0.7) and rep.accept_all_cost == pytest.approx(1.5)
    expected = (5 * m.bads_approved + 1 * m.goods_declined) / m.n
    assert m.expected_cost_per_applicant == pytest.approx(expected, abs=1e-4)
    # The Bayes cut-off strategy beats rejecting everyone on the holdout.
    assert m.expected_cost_per_applicant < rep.reject_all_cost
    assert m.bad_rate_approved < pf.y.mean()
    assert m.expected_loss > 0 and m.exposure > m.expected_loss


def test_comparison_with_a_champion(consumer_spec: dict[str, Any]) -> None:
    pf = portfolio("german_credit_holdout")
    a = _compiled(consumer_spec, "a")
    rep = backtest(a, pf, champion=_compiled(consumer_spec, "b")).to_dict()
    assert rep["swap_in"] == rep["swap_out"] == 0 and all(v == 0 for v in rep["delta"].values())


def test_merchant_strategy_on_a_fresh_cohort(merchant_spec: dict[str, Any]) -> None:
    rep = backtest(_compiled(merchant_spec, "m"), portfolio("merchant_financing"))
    assert 0.2 < rep.strategy.approval_rate < 0.95
    assert rep.strategy.bad_rate_approved < float(np.mean(portfolio("merchant_financing").y))


def test_a_portfolio_that_does_not_fit_the_scorecard_is_refused(
    consumer_spec: dict[str, Any],
) -> None:
    with pytest.raises(ValidationFailed) as err:
        backtest(_compiled(consumer_spec, "v1"), portfolio("merchant_financing"))
    assert err.value.code == "portfolio_mismatch"
