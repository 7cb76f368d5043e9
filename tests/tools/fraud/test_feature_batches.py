"""``FeatureEngine.features_batch`` answers what ``features_into`` answers one at a time.

The batch path vectorises the velocity features over a chunk; it must give the same floats bit
for bit (``array_equal``, not ``allclose``) and leave the same state behind: every track's
times, running sums, window pointers and totals, and the order entities were first seen in.
Streams include what a chunk could get wrong: one entity many times in a chunk, late events,
bursts at the same millisecond, window boundaries to the millisecond, tracks compacting inside
a chunk, fraud labels arriving mid-chunk and transactions that cannot be featured.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tools.fraud.features import BATCH_MIN, FeatureEngine, label_events
from tools.fraud.schema import Transaction
from tools.fraud.simulator import frame_to_transactions

T0 = 1_767_571_200.0


def _stream(seed: int, n: int, *, cards: int) -> tuple[list[Transaction], list[tuple[float, str]]]:
    rng = random.Random(seed)
    txns: list[Transaction] = []
    ts = T0
    for i in range(n):
        ts += rng.choice([0.0, 0.001, 1.0, 30.0, 3_599.999, 3_600.0, 86_400.0, -120.0, 604_800.0])
        txns.append(
            Transaction(
                txn_id=f"t{i}",
                ts=ts,
                customer_id=f"cus_{rng.randrange(7)}",
                card_id=f"card_{rng.randrange(cards)}",
                device_id=f"dev_{rng.randrange(5)}",
                ip=rng.choice(["10.0.0.1", "10.0.0.2", "100.64.0.9"]),
                merchant_id="m1",
                amount_minor=rng.choice([0, 1, 999, 1000, 250_000, 12_345_678]),
                currency=rng.choice(["USD", "EUR", "JPY", "KWD"]),
                declined=rng.random() < 0.2,
                cvv_match=rng.choice([None, True, False]),
            )
        )
    labels = [(T0 + rng.random() * (ts - T0), f"cus_{rng.randrange(7)}") for _ in range(5)]
    return txns, labels


def _state(engine: FeatureEngine) -> Any:
    seq = [
        [
            (key, t.ms, t.amt_cum, t.dec_cum, t.starts, t.n_all, t.sx, t.sx2)
            for key, t in tracks.items()
        ]
        for tracks in engine.sequence.by_kind
    ]
    graph = engine.graph
    nodes = [(n.kind, n.key, n.first_ms, n.links, n.cards, n.fraud_links) for n in graph._nodes]
    return seq, nodes, graph._parent, graph._fraud, engine.seen, engine._labels


def _compare(
    txns: list[Transaction], labels: list[tuple[float, str]], sizes: list[int]
) -> FeatureEngine:
    alone, batched = FeatureEngine(), FeatureEngine()
    alone.report_labels(labels)
    batched.report_labels(labels)
    expected: list[list[float]] = []
    failed: list[int] = []
    for i, txn in enumerate(txns):
        try:
            expected.append(alone.features(txn))
        except KeyError:
            failed.append(i)
    got: list[np.ndarray] = []
    got_failed: list[int] = []
    start, k = 0, 0
    while start < len(txns):
        chunk = txns[start : start + sizes[k % len(sizes)]]
        batch = batched.features_batch(chunk)
        assert batch.matrix.shape == (len(batch.rows), len(expected[0]))
        assert sorted(batch.rows + [i for i, _ in batch.errors]) == list(range(len(chunk)))
        got.append(batch.matrix)
        got_failed += [start + i for i, _ in batch.errors]
        start, k = start + len(chunk), k + 1
    assert got_failed == failed
    assert np.array_equal(np.vstack(got), np.array(expected), equal_nan=True)
    assert _state(batched) == _state(alone)
    return batched


def test_batches_equal_one_at_a_time_on_simulated_traffic(sim_frame: pd.DataFrame) -> None:
    txns = frame_to_transactions(sim_frame.iloc[:6000])
    _compare(txns, label_events(sim_frame), [2500, 1, BATCH_MIN, 700, 2767])


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_batches_equal_one_at_a_time_when_entities_repeat_inside_a_chunk(seed: int) -> None:
    # Few entities, so each appears dozens of times per chunk; late events, same-millisecond
    # bursts, and gaps of exactly one hour and seven days test every window boundary.
    txns, labels = _stream(seed, 2500, cards=1 + seed)
    _compare(txns, labels, [2500 if seed % 2 else 333, BATCH_MIN, 1000])


def test_tracks_that_compact_inside_a_chunk_equal_one_at_a_time() -> None:
    # One card, hundreds of events a week apart in bursts: its track compacts (drops events
    # past the longest window, re-basing running sums) several times within one chunk.
    rng = random.Random(7)
    txns, ts = [], T0
    for i in range(1500):
        ts += rng.choice([1.0, 60.0, 3_600.0, 604_800.0 / 50])
        txns.append(
            Transaction(
                txn_id=f"c{i}",
                ts=ts,
                customer_id=f"cus_{i % 3}",
                card_id="card_0",
                device_id="dev_0",
                ip="10.0.0.1",
                merchant_id="m1",
                amount_minor=rng.randrange(1, 10**7),
                currency="EUR",
                declined=rng.random() < 0.3,
            )
        )
    engine = _compare(txns, [], [1500, 400])
    card = engine.sequence.by_kind[0]["card_0"]
    assert len(card.ms) < 1000  # compacted, so the comparison covered compaction


def test_a_transaction_that_cannot_be_featured_fails_alone_mid_chunk() -> None:
    txns, labels = _stream(5, 400, cards=3)
    for i in (0, 57, 58, 200, 399):  # unknown currency: no features, state untouched
        txns[i] = replace(txns[i], currency="QQQ")
    # Late and out-of-order failing payments still let labels up to their time apply.
    txns[120] = replace(txns[120], currency="QQQ", ts=txns[120].ts + 30 * 86_400.0)
    _compare(txns, labels, [400, 90])


def test_matrix_is_the_batch_and_raises_what_one_at_a_time_raises() -> None:
    txns, labels = _stream(6, 300, cards=2)
    engine, alone = FeatureEngine(), FeatureEngine()
    engine.report_labels(labels)
    alone.report_labels(labels)
    assert np.array_equal(
        engine.matrix(txns), np.array([alone.features(t) for t in txns]), equal_nan=True
    )
    with pytest.raises(KeyError):
        engine.matrix([replace(txns[0], txn_id="bad", currency="QQQ")])
