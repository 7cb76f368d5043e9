"""Feature families for fraud scoring: tabular, sequence / velocity and entity-graph."""

from tools.fraud.features.engine import (
    BATCH_MIN,
    FEATURE_FAMILIES,
    FEATURE_NAMES,
    FeatureBatch,
    FeatureEngine,
    bulk_features,
    label_events,
)
from tools.fraud.features.graph import GRAPH_FEATURES, EntityGraph
from tools.fraud.features.sequence import SEQUENCE_FEATURES, SequenceState
from tools.fraud.features.tabular import TABULAR_FEATURES

__all__ = [
    "BATCH_MIN",
    "FEATURE_FAMILIES",
    "FEATURE_NAMES",
    "GRAPH_FEATURES",
    "SEQUENCE_FEATURES",
    "TABULAR_FEATURES",
    "EntityGraph",
    "FeatureBatch",
    "FeatureEngine",
    "SequenceState",
    "bulk_features",
    "label_events",
]
