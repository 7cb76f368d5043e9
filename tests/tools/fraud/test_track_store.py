"""The flat velocity-track store: moves and rebuilds of its arenas never change an answer.

Tracks live as segments of shared arrays (:mod:`tools.fraud.features.tracks`). A segment that
outgrows its room moves to the end; once moves leave too much behind, the arenas are rebuilt.
An engine that rebuilds after every move must answer and keep exactly what one that never
rebuilds does, through batches and single steps alike.
"""

from __future__ import annotations

import gc
import random
from dataclasses import replace

import numpy as np

from tools.fraud.features import FeatureEngine
from tools.fraud.schema import Transaction

T0 = 1_767_571_200.0


def _stream(n: int) -> list[Transaction]:
    rng = random.Random(11)
    txns: list[Transaction] = []
    ts = T0
    for i in range(n):
        ts += rng.choice([0.0, 1.0, 60.0, 3_600.0, 20_000.0, -30.0])
        txns.append(
            Transaction(
                txn_id=f"t{i}",
                ts=ts,
                customer_id=f"cus_{rng.randrange(40)}",
                card_id=f"card_{rng.randrange(3 if i % 2 else 60)}",
                device_id=f"dev_{rng.randrange(25)}",
                ip=rng.choice(["10.0.0.1", "10.0.0.2", f"100.64.0.{i % 50}"]),
                merchant_id="m1",
                amount_minor=rng.choice([0, 1, 999, 250_000, 12_345_678]),
                currency=rng.choice(["USD", "EUR", "JPY"]),
                declined=rng.random() < 0.2,
            )
        )
    return txns


def _state(engine: FeatureEngine) -> list[list[tuple[str, object]]]:
    return [list(tracks.items()) for tracks in engine.sequence.by_kind]


def test_rebuilding_the_arenas_changes_no_feature_and_no_track() -> None:
    txns = _stream(4000)
    plain, rebuilt = FeatureEngine(), FeatureEngine()
    rebuilt.sequence.store.slack = 0  # rebuild whenever moves left anything behind
    sizes = [700, 1, 5, 40, 1200, 3]
    got: list[np.ndarray] = []
    expected: list[np.ndarray] = []
    start, k = 0, 0
    while start < len(txns):
        chunk = txns[start : start + sizes[k % len(sizes)]]
        expected.append(plain.features_batch(chunk).matrix)
        got.append(rebuilt.features_batch(chunk).matrix)
        start, k = start + len(chunk), k + 1
    assert np.array_equal(np.vstack(got), np.vstack(expected), equal_nan=True)
    assert _state(rebuilt) == _state(plain)
    # Not vacuous: the plain store left moved segments behind, the rebuilt one did not.
    plain_store, rebuilt_store = plain.sequence.store, rebuilt.sequence.store
    assert len(plain_store.c) > plain_store.live
    assert len(rebuilt_store.c) < len(plain_store.c)
    # Tracks compacted along the way (the busiest card's history is far shorter than its count).
    busiest = max(plain.sequence.by_kind[0].values(), key=lambda t: t.n_all)
    assert len(busiest.ms) < busiest.n_all


def test_the_state_is_a_few_objects_however_many_entities() -> None:
    # What the collector walks: the store's own fields and what they hold. Per-entity objects
    # (a track with three lists each, as before) would be thousands here.
    engine = FeatureEngine()
    txns = _stream(3000)
    engine.matrix([replace(t, customer_id=f"c{i}", card_id=f"k{i}") for i, t in enumerate(txns)])
    store = engine.sequence.store
    fields = list(vars(store).values())
    held = [o for o in gc.get_referents(*fields) if gc.is_tracked(o)]
    assert sum(len(ids) for ids in store.ids) > 6000
    assert len(held) + len(fields) < 40
