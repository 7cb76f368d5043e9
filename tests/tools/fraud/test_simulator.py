from __future__ import annotations

import numpy as np
import pandas as pd

from tools.fraud.simulator import (
    PATTERNS,
    SeedCustomer,
    SimConfig,
    frame_to_transactions,
    seed_customers_from,
    simulate,
    time_split,
)


def test_same_seed_same_world_and_other_seed_differs() -> None:
    cfg = SimConfig(seed=3, n_customers=80, days=10, n_rings=2)
    a, b = simulate(cfg), simulate(cfg)
    pd.testing.assert_frame_equal(a, b)
    c = simulate(SimConfig(seed=4, n_customers=80, days=10, n_rings=2))
    assert len(c) != len(a) or not a["amount_minor"].equals(c["amount_minor"])


def test_every_pattern_planted_sorted_and_labelled(sim_frame: pd.DataFrame) -> None:
    assert set(sim_frame["pattern"]) == set(PATTERNS)
    assert sim_frame["ts"].is_monotonic_increasing
    assert sim_frame["txn_id"].is_unique
    fraud = sim_frame[sim_frame["is_fraud"] == 1]
    assert (fraud["pattern"] != "legit").all()
    assert (sim_frame.loc[sim_frame["is_fraud"] == 0, "pattern"] == "legit").all()
    # Labels arrive after the payment; friendly fraud much later than the rest.
    assert (fraud["label_ts"] > fraud["ts"]).all()
    delay = (fraud["label_ts"] - fraud["ts"]) / 86_400
    assert delay[fraud["pattern"] == "friendly_fraud"].min() >= 30
    assert 0.005 < sim_frame["is_fraud"].mean() < 0.1


def test_legit_traffic_has_daily_rhythm(sim_frame: pd.DataFrame) -> None:
    legit = sim_frame[sim_frame["pattern"] == "legit"]
    hours = ((legit["ts"] // 3600) % 24).astype(int)
    counts = np.bincount(hours, minlength=24)
    assert counts[19:21].sum() > 4 * counts[2:4].sum()


def test_rings_share_devices_across_accounts(sim_frame: pd.DataFrame) -> None:
    ring = sim_frame[sim_frame["pattern"] == "fraud_ring"]
    accounts_per_device = ring.groupby("device_id")["customer_id"].nunique()
    assert accounts_per_device.max() >= 3


def test_card_testing_bursts_many_cards_one_device(sim_frame: pd.DataFrame) -> None:
    ct = sim_frame[sim_frame["pattern"] == "card_testing"]
    per_device = ct.groupby("device_id")["card_id"].nunique()
    assert per_device.min() >= 10
    assert ct["declined"].mean() > 0.5


def test_time_split_is_ordered() -> None:
    frame = simulate(SimConfig(seed=5, n_customers=60, days=8, n_rings=1))
    train, test = time_split(frame, test_frac=0.3)
    assert train["ts"].max() <= test["ts"].min()
    assert len(train) + len(test) == len(frame)


def test_takes_entities_from_another_world() -> None:
    seeds = seed_customers_from(
        [{"customer_id": "pay_cus_1", "card_ids": ["pm_1"], "device_ids": ["d_1"], "country": "SG"}]
    )
    assert seeds == (SeedCustomer("pay_cus_1", ("pm_1",), ("d_1",), "SG"),)
    frame = simulate(
        SimConfig(seed=1, days=20, customers=seeds, n_rings=1, txns_per_customer_day=3)
    )
    legit = frame[frame["pattern"] == "legit"]
    assert set(legit["customer_id"]) == {"pay_cus_1"}
    assert set(legit["currency"]) == {"SGD"}
    txns = frame_to_transactions(frame.head(5))
    assert [t.txn_id for t in txns] == frame["txn_id"].head(5).tolist()


def test_public_surface_is_curated() -> None:
    import tools.fraud as pkg
    import tools.fraud.features as feats

    for mod in (pkg, feats):
        assert sorted(mod.__all__) == sorted(set(mod.__all__))
        for name in mod.__all__:
            assert hasattr(mod, name), name
