"""Concurrent HTTP score requests are scored together, yet each is answered as if alone.

:mod:`tools.fraud.batching` gathers the requests that arrive while a batch runs into one DB
transaction and one model call. What a caller gets must not depend on that: the same result as
:meth:`FraudService.score` one at a time, its own error only, and a repeated ``txn_id`` replayed.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cockpit.db.migrate import upgrade
from cockpit.db.session import Database
from cockpit.errors import Conflict, NotFound
from tests.support.migrated import migrated_sqlite
from tools.fraud.schema import Transaction
from tools.fraud.scoring import FraudScorer
from tools.fraud.service import FraudHub
from tools.fraud.simulator import frame_to_transactions
from tools.fraud.training import TrainingRun


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[Database]:
    database = migrated_sqlite(tmp_path / "b.db")
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def txns(sim_frame: pd.DataFrame) -> list[Transaction]:
    return frame_to_transactions(sim_frame.iloc[:120])


async def _gather(
    hub: FraudHub, db: Database, items: list[Transaction], bound: list[str | None]
) -> list[dict[str, Any] | BaseException]:
    svc = hub.tenant("t1")
    calls = [svc.score_queued(db, t, merchant_id=m) for t, m in zip(items, bound, strict=True)]
    return await asyncio.gather(*calls, return_exceptions=True)


def test_gathered_requests_match_scoring_one_at_a_time(
    db: Database, trained: TrainingRun, txns: list[Transaction]
) -> None:
    alone = FraudHub(trained.model).tenant("t1")
    expected = [alone.score(db, t) for t in txns]
    other = Database("sqlite:///" + str(Path(db.url.removeprefix("sqlite:///")).with_name("o.db")))
    upgrade(other)
    got = asyncio.run(_gather(FraudHub(trained.model), other, txns, [None] * len(txns)))
    assert got == expected
    assert all(r["reasons"] or r["decision"] == "approve" for r in expected)
    other.dispose()


def test_each_request_gets_its_own_outcome(
    db: Database, trained: TrainingRun, txns: list[Transaction]
) -> None:
    hub = FraudHub(trained.model)
    first, second, third = txns[0], txns[1], txns[2]
    changed = dataclasses.replace(first, amount_minor=first.amount_minor + 1)
    items = [first, second, first, changed, third]
    bound: list[str | None] = [None, "mer_nobody", None, None, third.merchant_id]
    out = asyncio.run(_gather(hub, db, items, bound))
    assert isinstance(out[0], dict) and out[0]["replayed"] is False
    assert isinstance(out[1], NotFound) and out[1].code == "merchant_not_found"
    assert isinstance(out[2], dict) and out[2] == {**out[0], "replayed": True}
    assert isinstance(out[3], Conflict) and out[3].code == "txn_already_scored"
    assert isinstance(out[4], dict) and out[4]["replayed"] is False
    # The refused request was never scored: scoring it now is fresh.
    again = asyncio.run(_gather(hub, db, [second], [None]))
    assert isinstance(again[0], dict) and again[0]["replayed"] is False


def test_explained_batch_equals_single_scores(
    trained: TrainingRun, txns: list[Transaction]
) -> None:
    one, many = FraudScorer(model=trained.model), FraudScorer(model=trained.model)
    singles = [one.score(t) for t in txns]
    batch = many.score_batch(txns, explain=True)
    assert batch == singles
    for t in txns:
        a, b = one.model_values(t.txn_id), many.model_values(t.txn_id)
        assert a is not None and b is not None
        assert np.array_equal(a, b, equal_nan=True)
