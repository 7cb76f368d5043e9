"""A server's hub settles the demo tenant's warmed state out of the garbage collector; a test
app's hub (``warmup=False``) never does: frozen objects would outlive the app they belong to."""

from __future__ import annotations

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
