from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tools.fraud.features import (
    FEATURE_FAMILIES,
    FEATURE_NAMES,
    FeatureEngine,
    bulk_features,
    label_events,
)
from tools.fraud.features.graph import naive_component_accounts
from tools.fraud.schema import Transaction
from tools.fraud.simulator import frame_to_transactions


def _txn(i: int, ts: float, **kw: object) -> Transaction:
    base: dict[str, object] = {
        "txn_id": f"t{i}",
        "ts": ts,
        "customer_id": "c1",
        "card_id": "k1",
        "device_id": "d1",
        "ip": "1.1.1.1",
        "merchant_id": "m1",
        "amount_minor": 1000,
        "currency": "USD",
    }
    base.update(kw)
    return Transaction(**base)  # type: ignore[arg-type]


def _col(name: str) -> int:
    return FEATURE_NAMES.index(name)


def test_families_partition_the_feature_names() -> None:
    names = [n for fam in FEATURE_FAMILIES.values() for n in fam]
    assert sorted(names) == sorted(FEATURE_NAMES)
    assert len(set(names)) == len(names)


def test_streaming_equals_bulk_on_simulated_traffic(
    sim_frame: pd.DataFrame, sim_features: pd.DataFrame
) -> None:
    engine = FeatureEngine()
    engine.report_labels(label_events(sim_frame))
    streamed = engine.matrix(frame_to_transactions(sim_frame))
    bulk = sim_features.to_numpy()
    assert streamed.shape == bulk.shape
    # Counts, sums, graph: identical. The amount z-scores differ in the last
    # digits only (cumulative sums over different partitions of the data).
    np.testing.assert_allclose(streamed, bulk, rtol=1e-6, atol=1e-9, equal_nan=True)
    # The comparison is not vacuous: every family varies on this data.
    for fam in FEATURE_FAMILIES.values():
        idx = [_col(n) for n in fam]
        assert np.nanstd(bulk[:, idx], axis=0).max() > 0


def test_velocity_windows_count_only_earlier_events() -> None:
    engine = FeatureEngine()
    t0 = 1_767_571_200.0
    rows = [
        engine.features(_txn(0, t0, declined=True)),
        engine.features(_txn(1, t0 + 60)),
        engine.features(_txn(2, t0 + 3600)),  # the first is exactly 1 h old: outside the 1 h window
        engine.features(_txn(3, t0 + 2 * 86_400, device_id="d2")),
    ]
    n1h = [r[_col("card_n_1h")] for r in rows]
    n24h = [r[_col("card_n_24h")] for r in rows]
    assert n1h == [0.0, 1.0, 1.0, 0.0]
    assert n24h == [0.0, 1.0, 2.0, 0.0]
    assert rows[1][_col("card_declines_1h")] == 1.0
    assert rows[2][_col("card_declines_1h")] == 0.0
    assert rows[1][_col("card_sum_1h")] == pytest.approx(10.0)
    assert math.isnan(rows[0][_col("card_since_last_h")])
    assert rows[1][_col("card_since_last_h")] == pytest.approx(1 / 60)
    assert rows[3][_col("card_n_7d")] == 3.0
    assert rows[3][_col("device_n_7d")] == 0.0
    assert rows[3][_col("graph_device_new_for_customer")] == 1.0
    assert rows[2][_col("graph_device_new_for_customer")] == 0.0


def test_amount_zscore_flags_outliers() -> None:
    engine = FeatureEngine()
    t0 = 1_767_571_200.0
    for i in range(6):
        engine.features(_txn(i, t0 + i * 86_400, amount_minor=2000 + 10 * i))
    big = engine.features(_txn(99, t0 + 7 * 86_400, amount_minor=200_000))
    assert big[_col("customer_amount_z")] > 5


def test_fraud_labels_only_count_after_they_arrive() -> None:
    t0 = 1_767_571_200.0
    engine = FeatureEngine()
    engine.features(_txn(0, t0, customer_id="bad", device_id="shared"))
    engine.report_label("bad", ts=t0 + 10 * 86_400)
    before = engine.features(_txn(1, t0 + 86_400, customer_id="c2", device_id="shared"))
    after = engine.features(
        _txn(2, t0 + 11 * 86_400, customer_id="c3", device_id="shared", card_id="k9")
    )
    assert before[_col("graph_neigh_fraud_share")] == 0.0
    assert before[_col("graph_comp_fraud")] == 0.0
    assert after[_col("graph_comp_fraud")] == 1.0
    assert after[_col("graph_risk")] > 0.0
    assert after[_col("graph_device_accounts")] == 3.0


def test_component_sizes_match_a_naive_recount(
    sim_frame: pd.DataFrame, sim_features: pd.DataFrame
) -> None:
    links: list[tuple[str, str, str]] = []
    rows = sim_frame.to_dict("records")
    checked = 0
    for i, r in enumerate(rows):
        links += [
            (r["customer_id"], "card", r["card_id"]),
            (r["customer_id"], "device", r["device_id"]),
        ]
        if i % 997 == 0 or (r["pattern"] == "fraud_ring" and i % 7 == 0):
            expected = naive_component_accounts(links, r["customer_id"])
            assert sim_features["graph_comp_accounts"].iat[i] == expected
            checked += 1
    assert checked > 10
    assert sim_features.loc[sim_frame["pattern"] == "fraud_ring", "graph_comp_accounts"].max() >= 3


def test_bulk_refuses_unsorted_frames(sim_frame: pd.DataFrame) -> None:
    shuffled = sim_frame.iloc[::-1].reset_index(drop=True)
    with pytest.raises(ValueError):
        bulk_features(shuffled.head(50))


def test_long_histories_are_compacted_without_changing_features() -> None:
    # 400 payments on one card over 40 days: events older than 7 days are dropped
    # from the streaming state, and the features still equal the bulk pass.
    rng = np.random.default_rng(0)
    t0 = 1_767_571_200.0
    ts = np.sort(t0 + rng.uniform(0, 40 * 86_400, 400))
    txns = [
        _txn(
            i,
            float(t),
            amount_minor=int(rng.integers(100, 50_000)),
            declined=bool(rng.random() < 0.2),
        )
        for i, t in enumerate(ts)
    ]
    frame = pd.DataFrame(
        {
            "txn_id": [t.txn_id for t in txns],
            "ts": ts,
            "customer_id": "c1",
            "card_id": "k1",
            "device_id": "d1",
            "ip": "1.1.1.1",
            "merchant_id": "m1",
            "amount_minor": [t.amount_minor for t in txns],
            "currency": "USD",
            "method": "card",
            "mcc": 5999,
            "card_country": "US",
            "ip_country": "US",
            "ship_country": "US",
            "account_created_ts": np.nan,
            "profile_changed_ts": np.nan,
            "cvv_match": None,
            "avs_match": None,
            "declined": [t.declined for t in txns],
            "liveness_score": np.nan,
        }
    )
    engine = FeatureEngine()
    streamed = engine.matrix(txns)
    np.testing.assert_allclose(
        streamed, bulk_features(frame).to_numpy(), rtol=1e-6, atol=1e-9, equal_nan=True
    )
    assert len(engine.sequence._tracks["card"]["k1"].ms) < 200
