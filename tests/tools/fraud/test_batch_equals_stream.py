"""Batch scoring answers exactly what scoring one transaction at a time answers.

``FraudScorer.score_batch`` (batch endpoint, gathered HTTP requests, warm-up) and
``FraudScorer.score`` share the streaming state; a speed-up of either must not move a single
feature value, score or reason. Compared bit for bit: equal floats, not ``allclose``.
Streams include what batching could get wrong: the same card, device, customer and IP several
times inside one batch, late (out-of-order) events, fraud labels arriving mid-batch, blocked
entities, liveness overrides and repeated transaction ids.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from tools.fraud.features import FeatureEngine, label_events
from tools.fraud.schema import Transaction
from tools.fraud.scoring import FraudScorer, ScoreResult
from tools.fraud.simulator import frame_to_transactions
from tools.fraud.training import TrainingRun

T0 = 1_767_571_200.0


def _scorer(run: TrainingRun, labels: list[tuple[float, str]]) -> FraudScorer:
    engine = FeatureEngine()
    engine.report_labels(labels)
    return FraudScorer(model=run.model, engine=engine)


def _one_at_a_time(
    scorer: FraudScorer, txns: list[Transaction], blocked: set[tuple[str, str]]
) -> list[ScoreResult]:
    return [scorer.score(t, blocked=blocked) for t in txns]


def _in_batches(
    scorer: FraudScorer, txns: list[Transaction], sizes: list[int], blocked: set[tuple[str, str]]
) -> list[ScoreResult]:
    out: list[ScoreResult] = []
    start, k = 0, 0
    while start < len(txns):
        size = sizes[k % len(sizes)]
        out += scorer.score_batch(txns[start : start + size], blocked=blocked, explain=True)
        start, k = start + size, k + 1
    return out


def _same_vectors(a: FraudScorer, b: FraudScorer, txn_ids: list[str]) -> None:
    for txn_id in txn_ids:
        va, vb = a.model_values(txn_id), b.model_values(txn_id)
        assert va is not None and vb is not None
        assert np.array_equal(va, vb, equal_nan=True), txn_id


def _adversarial(seed: int, n: int) -> tuple[list[Transaction], list[tuple[float, str]]]:
    """Few entities shared in every combination, late events, declines, liveness, labels."""
    rng = random.Random(seed)
    cards = [f"card_{i}" for i in range(6)]
    devices = [f"dev_{i}" for i in range(5)]
    customers = [f"cus_{i}" for i in range(7)]
    ips = ["10.0.0.1", "10.0.0.2", "100.64.0.9"]
    txns: list[Transaction] = []
    ts = T0
    for i in range(n):
        # Bursts (same second), hour gaps, day gaps and a few events back in time.
        ts += rng.choice([0.0, 0.5, 30.0, 3_599.999, 3_600.0, 86_400.0, -120.0, 7 * 86_400.0])
        txns.append(
            Transaction(
                txn_id=f"t{i}",
                ts=ts,
                customer_id=rng.choice(customers),
                card_id=rng.choice(cards),
                device_id=rng.choice(devices),
                ip=rng.choice(ips),
                merchant_id=rng.choice(["m1", "m2"]),
                amount_minor=rng.choice([0, 1, 999, 1000, 250_000, 12_345_678]),
                currency=rng.choice(["USD", "EUR", "JPY", "KWD"]),
                cvv_match=rng.choice([None, True, False]),
                account_created_ts=rng.choice([None, T0 - 86_400.0 * 30]),
                declined=rng.random() < 0.2,
                liveness_score=rng.choice([None, None, 0.9, 0.1]),
                attack_type=rng.choice([None] * 9 + ["replay"]),
            )
        )
    labels = [(T0 + rng.random() * (ts - T0), rng.choice(customers)) for _ in range(4)]
    return txns, labels


def test_batches_equal_one_at_a_time_on_simulated_traffic(
    sim_frame: pd.DataFrame, trained: TrainingRun
) -> None:
    txns = frame_to_transactions(sim_frame.iloc[:2500])
    labels = label_events(sim_frame)
    alone, batched = _scorer(trained, labels), _scorer(trained, labels)
    expected = _one_at_a_time(alone, txns, set())
    got = _in_batches(batched, txns, [1, 7, 500, 64, 1928], set())
    assert got == expected
    _same_vectors(alone, batched, [t.txn_id for t in txns])
    # Not vacuous: flagged payments with reasons, and approvals with them too.
    assert {r.decision for r in expected} >= {"approve", "review"}
    assert all(r.reasons for r in expected if r.decision != "approve")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batches_equal_one_at_a_time_when_entities_repeat_inside_a_batch(
    seed: int, trained: TrainingRun
) -> None:
    txns, labels = _adversarial(seed, 600)
    blocked = {("device", "dev_3"), ("ip", "100.64.0.9")}
    alone, batched = _scorer(trained, labels), _scorer(trained, labels)
    expected = _one_at_a_time(alone, txns, blocked)
    got = _in_batches(batched, txns, [600 if seed == 1 else 37, 3, 120], blocked)
    assert got == expected
    _same_vectors(alone, batched, [t.txn_id for t in txns])
    # A retried id replays its first result in both paths, without counting twice.
    again = txns[5:9]
    assert batched.score_batch(again, blocked=blocked, explain=True) == [
        alone.score(t, blocked=blocked) for t in again
    ]
    overrides = {o for r in expected for o in r.overrides}
    assert overrides == {"ENTITY_BLOCKED", "LIVENESS_ATTACK"}


def test_state_after_a_batch_equals_state_after_single_scores(trained: TrainingRun) -> None:
    txns, labels = _adversarial(4, 400)
    alone, batched = _scorer(trained, labels), _scorer(trained, labels)
    _one_at_a_time(alone, txns[:300], set())
    batched.score_batch(txns[:300])
    # What comes next is scored the same from both states, one at a time.
    assert _one_at_a_time(batched, txns[300:], set()) == _one_at_a_time(alone, txns[300:], set())
