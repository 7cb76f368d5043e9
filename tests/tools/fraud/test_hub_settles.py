"""A server's hub settles the demo tenant's warmed state out of the garbage collector; a test
app's hub (``warmup=False``) never does: frozen objects would outlive the app they belong to.
The hubs of a process that builds many apps (eval runs, tests) simulate the demo history once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from tools.fraud import service as fraud_service
from tools.fraud.service import DEMO_TENANT, FraudHub
from tools.fraud.simulator import SimConfig
from tools.fraud.training import TrainingRun

TINY = SimConfig(seed=3, n_customers=60, days=3, n_rings=1)


@pytest.mark.parametrize("freeze", [True, False])
def test_the_demo_tenant_settles_only_when_the_hub_is_a_servers(
    freeze: bool, trained: TrainingRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(fraud_service, "settle", lambda: calls.append("settled"))
    hub = FraudHub(trained.model, demo_history=TINY, freeze_warm_state=freeze)
    warmed = hub.tenant(DEMO_TENANT)
    assert warmed.scorer.engine.seen > 0
    hub.tenant("another")  # no history to warm: nothing to settle
    assert calls == (["settled"] if freeze else [])


def test_hubs_that_keep_the_history_simulate_it_once_and_warm_alike(
    trained: TrainingRun, calls_to: Callable[[object, str], list[Any]]
) -> None:
    simulated = calls_to(fraud_service, "simulate")
    fraud_service._kept_history.cache_clear()
    first, second = (
        FraudHub(trained.model, demo_history=TINY, keep_history=True).tenant(DEMO_TENANT)
        for _ in range(2)
    )
    assert len(simulated) == 1
    assert first is not second  # one history, two states
    history, _labels = fraud_service._kept_history(TINY)
    probe = replace(history[-1], txn_id="probe")
    scores = [svc.scorer.score_batch([probe])[0].score for svc in (first, second)]
    assert first.scorer.engine.seen == second.scorer.engine.seen > 0
    assert scores[0] == scores[1]

    FraudHub(trained.model, demo_history=TINY).tenant(DEMO_TENANT)  # a server's hub keeps nothing
    assert len(simulated) == 2
