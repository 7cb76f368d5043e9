"""Stored scores: explanations survive a restart, scoring is idempotent per (tenant, txn id).

A "restart" is a new :class:`FraudHub` (new services, empty memory) over the same database.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select

from cockpit.api.deps import RequestContext, request_context
from cockpit.api.errors import install_error_handlers
from cockpit.config import Settings
from cockpit.db import migrate
from cockpit.db.session import Database
from cockpit.errors import Conflict, NotFound
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit import ToolContext, default_registry
from tools.fraud import blocks
from tools.fraud.model import FraudModel
from tools.fraud.registry import ModelRegistry
from tools.fraud.router import router
from tools.fraud.schema import parse_transaction
from tools.fraud.service import FraudHub
from tools.fraud.store import ScoreRecord
from tools.fraud.training import TrainingRun

T0 = datetime(2025, 3, 4, 10, 0, tzinfo=UTC).timestamp()


def _migrate(database: Database, target: str = "heads", *, down: bool = False) -> None:
    """Core and fraud branches only (other packages' migrations are not ours to test)."""
    cfg = migrate.alembic_config(database)
    fraud_versions = Path(blocks.__file__).parent / "migrations" / "versions"
    core_versions = Path(migrate.__file__).parent / "migrations" / "versions"
    cfg.set_main_option("version_locations", f"{core_versions} {fraud_versions}")
    with database.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, target)


@pytest.fixture()
def db(backend_url: str) -> Iterator[Database]:
    """SQLite always; PostgreSQL when reachable."""
    database = Database(backend_url)
    _migrate(database)
    yield database
    database.dispose()


@pytest.fixture()
def lite(tmp_path: Path) -> Iterator[Database]:
    database = Database("sqlite:///" + str(tmp_path / "s.db"))
    _migrate(database)
    yield database
    database.dispose()


def _txn(txn_id: str, *, minutes: float = 0.0, **change: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "txn_id": txn_id,
        "ts": T0 + 60 * minutes,
        "customer_id": "cus_store_1",
        "card_id": "card_store_1",
        "device_id": "dev_store_1",
        "ip": "198.51.100.7",
        "merchant_id": "mer_store",
        "amount_minor": 12_500,
        "currency": "USD",
        "account_created_ts": T0 - 86_400 * 200,
    }
    return {**body, **change}


def _ctx(db: Database, hub: FraudHub, tenant: str = "t1") -> ToolContext:
    return ToolContext(
        principal=Principal(tenant_id=tenant, role=Role.MERCHANT, key_id="k-" + tenant),
        db=db,
        extras={"fraud": hub},
    )


def _call(name: str, ctx: ToolContext, **args: Any) -> Any:
    tool = default_registry.get(name)
    return tool.fn(ctx, tool.args.model_validate(args))


def _client(db: Database, hub: FraudHub, tmp_path: Path, tenant: str = "t1") -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)

    def ctx() -> RequestContext:
        return RequestContext(
            principal=Principal(tenant_id=tenant, role=Role.MERCHANT, key_id="k-" + tenant),
            db=db,
            settings=Settings(data_dir=tmp_path / "data"),
            extras={"fraud": hub},
        )

    app.dependency_overrides[request_context] = ctx
    return TestClient(app, raise_server_exceptions=False)


def _rows(db: Database, tenant: str) -> list[ScoreRecord]:
    with db.tenant_session(tenant) as s:
        return list(s.scalars(select(ScoreRecord).order_by(ScoreRecord.id)))


def _count_all(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ScoreRecord.__table__)).scalar())


# ----- restart ------------------------------------------------------------------------------


def test_explanation_survives_a_restart(db: Database, trained: TrainingRun) -> None:
    before = FraudHub(trained.model)
    scored = _call("score_transaction", _ctx(db, before), **_txn("txn_r1"))
    assert scored["replayed"] is False
    first = _call("explain_score", _ctx(db, before), txn_id="txn_r1")

    after = FraudHub(trained.model)  # the process restarted: nothing in memory
    explained = _call("explain_score", _ctx(db, after), txn_id="txn_r1")
    assert explained == first
    assert explained["result"] == {k: v for k, v in scored.items() if k != "replayed"}
    assert explained["merchant_id"] == "mer_store"
    assert len(explained["features"]) == len(trained.model.feature_names)
    assert all(f["contribution"] is not None for f in explained["features"])
    margin = sum(f["contribution"] for f in explained["features"]) + explained["base_log_odds"]
    assert margin == pytest.approx(explained["margin"])

    (row,) = _rows(db, "t1")
    assert (row.txn_id, row.merchant_id, row.decision) == (
        "txn_r1",
        "mer_store",
        scored["decision"],
    )
    assert row.score == pytest.approx(scored["score"])
    assert row.reason_codes == [r["code"] for r in scored["reasons"]]
    assert row.model_version == trained.model.version and row.created_at is not None
    assert set(row.features) == set(trained.model.feature_names)

    # Scoring it again after the restart replays the row and feeds nothing into the new state.
    again = _call("score_transaction", _ctx(db, after), **_txn("txn_r1"))
    assert again == {**scored, "replayed": True}
    assert _count_all(db) == 1
    with pytest.raises(NotFound):
        _call("entity_graph", _ctx(db, after), kind="customer", entity_id="cus_store_1")


def test_http_explain_after_restart_and_not_found_error(
    lite: Database, trained: TrainingRun, tmp_path: Path
) -> None:
    c1 = _client(lite, FraudHub(trained.model), tmp_path)
    r = c1.post(
        "/v1/fraud/score/batch", json={"transactions": [_txn("txn_h1"), _txn("txn_h2", minutes=3)]}
    )
    assert r.status_code == 200, r.text
    c2 = _client(lite, FraudHub(trained.model), tmp_path)  # restarted server
    r = c2.get("/v1/fraud/explain/txn_h2")
    assert r.status_code == 200, r.text
    assert r.json()["result"]["decision"] in {"approve", "review", "decline"}
    assert r.json()["features"]
    r = c2.get("/v1/fraud/explain/txn_never")
    assert r.status_code == 404
    assert r.json() == {
        "type": "invalid_request_error",
        "code": "transaction_not_found",
        "message": "no scored transaction 'txn_never'",
        "param": "txn_id",
    }


# ----- idempotency --------------------------------------------------------------------------


def _later_features(db: Database, hub: FraudHub, tenant: str, first: list[dict[str, Any]]) -> Any:
    ctx = _ctx(db, hub, tenant)
    for body in first:
        _call("score_transaction", ctx, **body)
    _call("score_transaction", ctx, **_txn("txn_v2", minutes=10))
    explained = _call("explain_score", ctx, txn_id="txn_v2")
    return {f["feature"]: f["value"] for f in explained["features"]}


def test_a_retry_does_not_count_twice_in_the_velocity_features(
    lite: Database, trained: TrainingRun
) -> None:
    hub = FraudHub(trained.model)  # one tenant per scenario: separate state, same model
    once = _later_features(lite, hub, "once", [_txn("txn_v1")])
    retried = _later_features(lite, hub, "retried", [_txn("txn_v1"), _txn("txn_v1")])
    # What a double count would look like: the same payment under two ids.
    doubled = _later_features(lite, hub, "doubled", [_txn("txn_v1"), _txn("txn_v1b")])
    assert retried == once
    assert doubled != once
    velocity = [n for n in once if n.startswith(("customer_n_", "card_n_", "device_n_"))]
    assert velocity and any(doubled[n] != once[n] for n in velocity)
    assert [r.txn_id for r in _rows(lite, "retried")] == ["txn_v1", "txn_v2"]

    # A batch that repeats a scored id replays it and scores only the new one.
    hub2 = FraudHub(trained.model)
    ctx = _ctx(lite, hub2, "batch")
    _call("score_transaction", ctx, **_txn("txn_v1"))
    svc = hub2.tenant("batch")
    txns = [parse_transaction(_txn("txn_v1")), parse_transaction(_txn("txn_v2", minutes=10))]
    out = svc.score_batch(lite, txns)
    assert [r["replayed"] for r in out] == [True, False]
    assert svc.merchant_report("mer_store")["scored"] == 2
    batch = _call("explain_score", ctx, txn_id="txn_v2")
    assert {f["feature"]: f["value"] for f in batch["features"]} == once


def test_same_payment_in_another_spelling_is_a_retry(lite: Database, trained: TrainingRun) -> None:
    ctx = _ctx(lite, FraudHub(trained.model))
    first = _call("score_transaction", ctx, **_txn("txn_s1"))
    iso = datetime.fromtimestamp(T0, tz=UTC).isoformat()
    again = _call("score_transaction", ctx, **_txn("txn_s1", ts=iso, currency="usd"))
    assert again == {**first, "replayed": True}
    assert _count_all(lite) == 1


def test_conflicting_rescore_is_409_and_changes_nothing(
    lite: Database, trained: TrainingRun, tmp_path: Path
) -> None:
    hub = FraudHub(trained.model)
    c = _client(lite, hub, tmp_path)
    first = c.post("/v1/fraud/score", json=_txn("txn_c1"))
    assert first.status_code == 200
    r = c.post("/v1/fraud/score", json=_txn("txn_c1", amount_minor=990_000))
    assert r.status_code == 409
    body = r.json()
    assert (body["type"], body["code"], body["param"]) == (
        "invalid_request_error",
        "txn_already_scored",
        "txn_id",
    )
    assert "txn_c1" in body["message"]
    # A batch holding a conflicting id is refused whole, before anything is scored.
    r = c.post(
        "/v1/fraud/score/batch",
        json={"transactions": [_txn("txn_c2", minutes=1), _txn("txn_c1", amount_minor=1)]},
    )
    assert r.status_code == 409
    assert r.json()["code"] == "txn_already_scored"
    assert r.json()["param"] == "transactions[1].txn_id"
    assert c.get("/v1/fraud/explain/txn_c2").status_code == 404
    # End state: one stored row, the first result; the state counted one payment.
    (row,) = _rows(lite, "t1")
    assert row.result == {k: v for k, v in first.json().items() if k != "replayed"}
    assert hub.tenant("t1").merchant_report("mer_store")["scored"] == 1
    # The agent tool reports the same conflict.
    with pytest.raises(Conflict) as err:
        _call("score_transaction", _ctx(lite, hub), **_txn("txn_c1", ip="203.0.113.9"))
    assert err.value.code == "txn_already_scored"


# ----- tenants ------------------------------------------------------------------------------


def test_stored_scores_are_tenant_isolated(db: Database, trained: TrainingRun) -> None:
    hub = FraudHub(trained.model)
    a = _call("score_transaction", _ctx(db, hub, "ta"), **_txn("txn_t1"))
    with pytest.raises(NotFound):
        _call("explain_score", _ctx(db, hub, "tb"), txn_id="txn_t1")
    # The same id in another tenant is that tenant's own payment: scored, not a conflict.
    b = _call("score_transaction", _ctx(db, hub, "tb"), **_txn("txn_t1", merchant_id="mer_other"))
    assert a["replayed"] is False and b["replayed"] is False
    assert [(r.tenant_id, r.merchant_id) for r in _rows(db, "ta")] == [("ta", "mer_store")]
    assert [(r.tenant_id, r.merchant_id) for r in _rows(db, "tb")] == [("tb", "mer_other")]
    assert (
        _call("explain_score", _ctx(db, hub, "ta"), txn_id="txn_t1")["merchant_id"] == "mer_store"
    )
    assert (
        _call("explain_score", _ctx(db, hub, "tb"), txn_id="txn_t1")["merchant_id"] == "mer_other"
    )
    assert _count_all(db) == 2


# ----- model versions and failures --------------------------------------------------------


def test_explain_uses_the_model_version_that_scored(
    lite: Database, trained: TrainingRun, tmp_path: Path
) -> None:
    registry = ModelRegistry(tmp_path / "models")
    old: FraudModel = dataclasses.replace(trained.model)
    registry.save(old)
    new: FraudModel = dataclasses.replace(trained.model, calib_b=trained.model.calib_b + 1.0)
    registry.save(new)
    assert (old.version, new.version) == ("v0001", "v0002")
    _call("score_transaction", _ctx(lite, FraudHub(old)), **_txn("txn_m1"))

    retrained = FraudHub(new, models=registry.load)
    explained = _call("explain_score", _ctx(lite, retrained), txn_id="txn_m1")
    assert explained["model_version"] == "v0001" and "note" not in explained
    assert all(f["contribution"] is not None for f in explained["features"])

    no_registry = _call("explain_score", _ctx(lite, FraudHub(new)), txn_id="txn_m1")
    assert no_registry["result"] == explained["result"]
    assert no_registry["base_log_odds"] is None and "v0001" in no_registry["note"]
    assert {f["feature"]: f["value"] for f in no_registry["features"]} == {
        f["feature"]: f["value"] for f in explained["features"]
    }


class _Broken:
    def predict(self, *_a: object, **_k: object) -> Any:
        raise RuntimeError("model file went away")


def test_a_failed_scoring_is_stored_as_review(lite: Database, trained: TrainingRun) -> None:
    broken = dataclasses.replace(trained.model)
    broken.booster = _Broken()  # type: ignore[assignment]
    ctx = _ctx(lite, FraudHub(broken))
    res = _call("score_transaction", ctx, **_txn("txn_f1"))
    assert res["decision"] == "review" and res["error_code"] == "scoring_failed"
    assert _call("score_transaction", ctx, **_txn("txn_f1"))["replayed"] is True
    explained = _call("explain_score", ctx, txn_id="txn_f1")
    assert explained["result"]["decision"] == "review"
    assert explained["features"] == [] and "scoring failed" in explained["note"]


# ----- migration ----------------------------------------------------------------------------


def test_migration_up_and_down(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import MetaData

    from cockpit.db.base import Base

    ours = MetaData(naming_convention=Base.metadata.naming_convention)
    Base.metadata.tables["fraud_scores"].to_metadata(ours)
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        assert [d for d in compare_metadata(ctx, ours) if "fraud_scores" in repr(d)] == []
    _migrate(db, "fraud_0001", down=True)
    with db.engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
    assert "fraud_scores" not in names and "fraud_entity_blocks" in names
    _migrate(db)
    with db.engine.connect() as conn:
        assert "fraud_scores" in set(inspect(conn).get_table_names())
