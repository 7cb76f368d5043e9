"""Credit idempotency keys (issue 13, finding 5): a key replays only the request it was first used
for — another request under it is 409 ``idempotency_key_reused`` — and concurrent requests with
one key make one decision or one deployment, the others replaying it byte for byte; never a 500.
On SQLite and PostgreSQL, through the service and through the HTTP API."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cockpit.api.deps import RequestContext, request_context
from cockpit.api.errors import install_error_handlers
from cockpit.config import Settings
from cockpit.db.migrate import upgrade
from cockpit.db.session import Database
from cockpit.errors import Conflict
from cockpit.tenancy.principal import Principal, Role
from tests.support.concurrency import released_together
from tools.credit.models import DecisionRow, DeploymentRow
from tools.credit.router import router
from tools.credit.service import CreditService, service_for

SLOT = "consumer-default"
TENANT = "t1"
CLIENTS = 20


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/credit.db"
    else:
        url = request.getfixturevalue("migrated_pg_url")
    database = Database(url)
    upgrade(database)
    yield database
    database.dispose()


def _api(db: Database, tmp_path: Path) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    ctx = RequestContext(
        principal=Principal(tenant_id=TENANT, role=Role.PARTNER, key_id="key-t1"),
        db=db,
        settings=Settings(data_dir=tmp_path),
        extras={},
    )

    async def _ctx() -> RequestContext:
        return ctx

    app.dependency_overrides[request_context] = _ctx
    return TestClient(app)


def _parallel(n: int, fn: Callable[[], Any]) -> list[Any]:
    return released_together(n, lambda _i: fn())


def _count(db: Database, model: type) -> int:
    with db.tenant_session(TENANT) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _deployed(svc: CreditService, spec: dict[str, Any]) -> str:
    version_id = str(svc.create_version(TENANT, spec, created_by="k")["id"])
    svc.deploy(TENANT, version_id, created_by="k")
    return version_id


def test_a_decision_key_replays_only_its_own_request(
    any_db: Database, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    svc = CreditService(any_db)
    _deployed(svc, consumer_spec)
    first = svc.decide(TENANT, SLOT, german_rows[2], created_by="k", idempotency_key="app-1")
    again = svc.decide(TENANT, SLOT, german_rows[2], created_by="k", idempotency_key="app-1")
    assert not first["replayed"] and again == {**first, "replayed": True}
    other = {**german_rows[2], "credit_amount": german_rows[2]["credit_amount"] + 1}
    with pytest.raises(Conflict) as err:
        svc.decide(TENANT, SLOT, other, created_by="k", idempotency_key="app-1")
    assert err.value.code == "idempotency_key_reused"
    with pytest.raises(Conflict) as err:  # the same applicant for another merchant
        svc.decide(
            TENANT, SLOT, german_rows[2], created_by="k", idempotency_key="app-1", merchant_id="m2"
        )
    assert err.value.code == "idempotency_key_reused"
    assert _count(any_db, DecisionRow) == 1


def test_a_final_decision_key_replays_only_its_own_grant(
    any_db: Database, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    svc = CreditService(any_db)
    _deployed(svc, consumer_spec)
    approved = next(r for r in german_rows if svc.preview(TENANT, SLOT, r)[1].outcome == "approve")

    def final(grant: int) -> dict[str, Any]:
        return svc.decide(
            TENANT,
            SLOT,
            approved,
            created_by="k",
            idempotency_key="tool:call-1",
            kind="final",
            grant_minor=grant,
            grant_currency="EUR",
        )

    first = final(10_000)
    assert final(10_000) == {**first, "replayed": True}
    with pytest.raises(Conflict) as err:
        final(20_000)
    assert err.value.code == "idempotency_key_reused"


def test_a_deploy_key_replays_only_its_own_version(
    any_db: Database, consumer_spec: dict[str, Any]
) -> None:
    svc = CreditService(any_db)
    v1 = svc.create_version(TENANT, consumer_spec, created_by="k")["id"]
    v2 = svc.create_version(TENANT, copy.deepcopy(consumer_spec), created_by="k")["id"]
    first = svc.deploy(TENANT, v1, created_by="k", idempotency_key="dep-1")
    again = svc.deploy(TENANT, v1, created_by="k", idempotency_key="dep-1")
    assert not first["replayed"] and again == {**first, "replayed": True}
    with pytest.raises(Conflict) as err:
        svc.deploy(TENANT, v2, created_by="k", idempotency_key="dep-1")
    assert err.value.code == "idempotency_key_reused"
    assert svc.deployment(TENANT, SLOT)["champion_version_id"] == v1
    assert _count(any_db, DeploymentRow) == 1


def test_concurrent_same_key_deploys_deploy_once(
    any_db: Database, consumer_spec: dict[str, Any], tmp_path: Path
) -> None:
    api = _api(any_db, tmp_path)
    vid = service_for(any_db).create_version(TENANT, consumer_spec, created_by="k")["id"]
    url = f"/v1/credit/strategies/{vid}/deploy"
    responses = _parallel(CLIENTS, lambda: api.post(url, headers={"Idempotency-Key": "dep-race"}))
    codes = [getattr(r, "status_code", repr(r)) for r in responses]
    assert codes == [200] * CLIENTS, [r.text if hasattr(r, "text") else r for r in responses]
    firsts = [r for r in responses if not r.json()["replayed"]]
    replays = {r.content for r in responses if r.json()["replayed"]}
    assert len(firsts) == 1 and len(replays) == 1, replays
    assert json.loads(replays.pop()) == {**firsts[0].json(), "replayed": True}
    assert _count(any_db, DeploymentRow) == 1
    again = api.post(url, headers={"Idempotency-Key": "dep-race"})
    assert again.json() == {**firsts[0].json(), "replayed": True}


def test_concurrent_same_key_decisions_decide_once(
    any_db: Database,
    consumer_spec: dict[str, Any],
    german_rows: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    api = _api(any_db, tmp_path)
    _deployed(service_for(any_db), consumer_spec)
    body = {"strategy": SLOT, "application_id": "A-race", "applicant": german_rows[5]}
    responses = _parallel(
        CLIENTS,
        lambda: api.post(
            "/v1/credit/applications", json=body, headers={"Idempotency-Key": "app-race"}
        ),
    )
    codes = sorted(getattr(r, "status_code", repr(r)) for r in responses)
    assert codes == [200] * (CLIENTS - 1) + [201], [getattr(r, "text", r) for r in responses]
    first = next(r for r in responses if r.status_code == 201).json()
    replays = {r.content for r in responses if r.status_code == 200}
    assert len(replays) == 1 and json.loads(replays.pop()) == {**first, "replayed": True}
    assert _count(any_db, DecisionRow) == 1
