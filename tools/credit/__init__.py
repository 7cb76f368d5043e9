"""Credit decisioning (Bettr-like): scorecards, strategies as JDM decision models, backtest, deploy.

Public surface; everything else in the package is an implementation detail.
Router: ``tools.credit.router:router``; CLI: ``tools.credit.cli:app``; agent
tools: ``tools.credit.tools``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cockpit.lazy import lazy_exports

if TYPE_CHECKING:  # the same names, imported on first use (cockpit.lazy)
    from tools.credit.backtest import BacktestMetrics, BacktestReport, backtest
    from tools.credit.catalog import PORTFOLIOS, SCORECARDS, Portfolio, builtin_scorecard, portfolio
    from tools.credit.data import GERMAN_COST, GERMAN_FEATURES, CostMatrix, load_german_credit
    from tools.credit.export import scorecard_to_jdm
    from tools.credit.jdm import check_decision_model
    from tools.credit.live import LiveDeployment, LiveTable
    from tools.credit.merchant import (
        MERCHANT_FEATURES,
        MerchantWorld,
        application_from_activity,
        generate_merchant_applications,
    )
    from tools.credit.metrics import auc, calibration, expected_cost, ks, psi
    from tools.credit.schema import FeatureSpec, validate_applicant
    from tools.credit.scorecard import Reason, Scaling, Scorecard, ScoreResult
    from tools.credit.service import CreditService, service_for
    from tools.credit.strategy import (
        CompiledStrategy,
        Decision,
        StrategySpec,
        TestReport,
        parse_spec,
    )
    from tools.credit.training import TrainingConfig, train_scorecard

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "tools.credit.backtest": ["BacktestMetrics", "BacktestReport", "backtest"],
        "tools.credit.catalog": [
            "PORTFOLIOS",
            "SCORECARDS",
            "Portfolio",
            "builtin_scorecard",
            "portfolio",
        ],
        "tools.credit.data": ["GERMAN_COST", "GERMAN_FEATURES", "CostMatrix", "load_german_credit"],
        "tools.credit.export": ["scorecard_to_jdm"],
        "tools.credit.jdm": ["check_decision_model"],
        "tools.credit.live": ["LiveDeployment", "LiveTable"],
        "tools.credit.merchant": [
            "MERCHANT_FEATURES",
            "MerchantWorld",
            "application_from_activity",
            "generate_merchant_applications",
        ],
        "tools.credit.metrics": ["auc", "calibration", "expected_cost", "ks", "psi"],
        "tools.credit.schema": ["FeatureSpec", "validate_applicant"],
        "tools.credit.scorecard": ["Reason", "Scaling", "Scorecard", "ScoreResult"],
        "tools.credit.service": ["CreditService", "service_for"],
        "tools.credit.strategy": [
            "CompiledStrategy",
            "Decision",
            "StrategySpec",
            "TestReport",
            "parse_spec",
        ],
        "tools.credit.training": ["TrainingConfig", "train_scorecard"],
    },
)

__all__ = [
    "GERMAN_COST",
    "GERMAN_FEATURES",
    "MERCHANT_FEATURES",
    "PORTFOLIOS",
    "SCORECARDS",
    "BacktestMetrics",
    "BacktestReport",
    "CompiledStrategy",
    "CostMatrix",
    "CreditService",
    "Decision",
    "FeatureSpec",
    "LiveDeployment",
    "LiveTable",
    "MerchantWorld",
    "Portfolio",
    "Reason",
    "Scaling",
    "ScoreResult",
    "Scorecard",
    "StrategySpec",
    "TestReport",
    "TrainingConfig",
    "application_from_activity",
    "auc",
    "backtest",
    "builtin_scorecard",
    "calibration",
    "check_decision_model",
    "expected_cost",
    "generate_merchant_applications",
    "ks",
    "load_german_credit",
    "parse_spec",
    "portfolio",
    "psi",
    "scorecard_to_jdm",
    "service_for",
    "train_scorecard",
    "validate_applicant",
]
