"""Fraud and risk scoring, SHIELD-style: tabular, sequence and graph features in one LightGBM score.

Public surface (other packages import only these):

* simulation: :func:`simulate`, :class:`SimConfig`, :class:`SeedCustomer`, :func:`time_split`
* features: :class:`FeatureEngine` (streaming), :func:`bulk_features` (training), :data:`FEATURE_NAMES`
* model: :func:`train_on_frame`, :func:`train_from_simulator`, :class:`FraudModel`, :class:`ModelRegistry`
* scoring: :class:`FraudScorer`, :class:`ScoreResult`, :func:`parse_transaction`, :class:`Transaction`
* service: :class:`FraudHub`, :class:`FraudService`, :func:`get_service` (every score stored in
  ``fraud_scores`` by :mod:`tools.fraud.store`: idempotent per txn id, explainable after restarts)

Agent tools live in ``tools.fraud.tools``, HTTP in ``tools.fraud.router``,
CLI in ``tools.fraud.cli`` (``cockpit fraud``) and ``tools.fraud.data``
(``cockpit data fetch ulb-fraud``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cockpit.lazy import lazy_exports

if TYPE_CHECKING:  # the same names, imported on first use (cockpit.lazy)
    from tools.fraud.features import FEATURE_FAMILIES, FEATURE_NAMES, FeatureEngine, bulk_features
    from tools.fraud.model import CostModel, FraudModel, Policy, TrainParams
    from tools.fraud.registry import ModelRegistry
    from tools.fraud.schema import Transaction, TransactionIn, parse_transaction
    from tools.fraud.scoring import FraudScorer, ScoreResult
    from tools.fraud.service import FraudHub, FraudService, get_service
    from tools.fraud.simulator import SeedCustomer, SimConfig, simulate, time_split
    from tools.fraud.training import TrainingRun, train_from_simulator, train_on_frame

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "tools.fraud.features": [
            "FEATURE_FAMILIES",
            "FEATURE_NAMES",
            "FeatureEngine",
            "bulk_features",
        ],
        "tools.fraud.model": ["CostModel", "FraudModel", "Policy", "TrainParams"],
        "tools.fraud.registry": ["ModelRegistry"],
        "tools.fraud.schema": ["Transaction", "TransactionIn", "parse_transaction"],
        "tools.fraud.scoring": ["FraudScorer", "ScoreResult"],
        "tools.fraud.service": ["FraudHub", "FraudService", "get_service"],
        "tools.fraud.simulator": ["SeedCustomer", "SimConfig", "simulate", "time_split"],
        "tools.fraud.training": ["TrainingRun", "train_from_simulator", "train_on_frame"],
    },
)

__all__ = [
    "FEATURE_FAMILIES",
    "FEATURE_NAMES",
    "CostModel",
    "FeatureEngine",
    "FraudHub",
    "FraudModel",
    "FraudScorer",
    "FraudService",
    "ModelRegistry",
    "Policy",
    "ScoreResult",
    "SeedCustomer",
    "SimConfig",
    "TrainParams",
    "TrainingRun",
    "Transaction",
    "TransactionIn",
    "bulk_features",
    "get_service",
    "parse_transaction",
    "simulate",
    "time_split",
    "train_from_simulator",
    "train_on_frame",
]
