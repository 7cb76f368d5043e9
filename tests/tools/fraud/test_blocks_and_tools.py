from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cockpit.db.session import Database
from cockpit.errors import Conflict, NotFound, ValidationFailed
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit import ToolContext, ToolKind, default_registry
from tests.support.migrated import migrated_sqlite
from tools.fraud import blocks
from tools.fraud.service import FraudHub
from tools.fraud.training import TrainingRun

TOOL_NAMES = {
    "score_transaction": ToolKind.READ,
    "explain_score": ToolKind.READ,
    "entity_graph": ToolKind.READ,
    "merchant_risk_report": ToolKind.READ,
    "block_entity": ToolKind.WRITE,
    "release_entity": ToolKind.WRITE,
}


@pytest.fixture()
def db(tmp_path: Path) -> Database:
    database = migrated_sqlite(tmp_path / "t.db")
    return database


def _core_and_fraud(database: Database) -> None:
    """Apply only the core and fraud branches (other packages' migrations are not ours to test)."""
    from alembic import command

    from cockpit.db import migrate

    cfg = migrate.alembic_config(database)
    fraud_versions = Path(blocks.__file__).parent / "migrations" / "versions"
    core_versions = Path(migrate.__file__).parent / "migrations" / "versions"
    cfg.set_main_option("version_locations", f"{core_versions} {fraud_versions}")
    with database.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


@pytest.fixture()
def any_db(migrated_backend_url: str) -> Iterator[Database]:
    """SQLite always; PostgreSQL when reachable (root conftest's ``migrated_backend_url``: every
    branch at its newest, fraud's included, migrated once per worker and copied)."""
    database = Database(migrated_backend_url)
    yield database
    database.dispose()


def _ctx(db: Database, hub: FraudHub, *, tenant: str = "t1", key: str | None = None) -> ToolContext:
    return ToolContext(
        principal=Principal(tenant_id=tenant, role=Role.MERCHANT, key_id="k-" + tenant),
        db=db,
        idempotency_key=key,
        extras={"fraud": hub},
    )


def _call(name: str, ctx: ToolContext, **args: Any) -> Any:
    tool = default_registry.get(name)
    return tool.fn(ctx, tool.args.model_validate(args))


def _payload(row: pd.Series) -> dict[str, Any]:
    keys = [
        "txn_id",
        "ts",
        "customer_id",
        "card_id",
        "device_id",
        "ip",
        "merchant_id",
        "amount_minor",
        "currency",
        "method",
        "mcc",
        "card_country",
        "ip_country",
        "ship_country",
    ]
    out = {k: (row[k].item() if hasattr(row[k], "item") else row[k]) for k in keys}
    out["account_created_ts"] = float(row["account_created_ts"])
    return out


def test_block_is_idempotent_and_tenant_scoped(any_db: Database) -> None:
    db = any_db
    first = blocks.block_entity(
        db, "t1", kind="device", entity_id="d1", reason="ring", actor="a", idempotency_key="k1"
    )
    again = blocks.block_entity(
        db, "t1", kind="device", entity_id="d1", reason="ring", actor="a", idempotency_key="k1"
    )
    assert first["status"] == "blocked" and first["replayed"] is False
    assert again["replayed"] is True and again["updated_at"] == first["updated_at"]
    assert len(blocks.list_blocks(db, "t1")) == 1
    assert blocks.blocked_set(db, "t1", [("device", "d1"), ("card", "d1")]) == {("device", "d1")}
    assert blocks.blocked_set(db, "t2", [("device", "d1")]) == set()
    with pytest.raises(Conflict):
        blocks.block_entity(
            db, "t1", kind="card", entity_id="c9", reason="x", actor="a", idempotency_key="k1"
        )
    with pytest.raises(NotFound) as err:
        blocks.release_entity(
            db, "t2", kind="device", entity_id="d1", reason="nope", actor="a", idempotency_key="k2"
        )
    assert err.value.code == "entity_not_blocked"
    released = blocks.release_entity(
        db, "t1", kind="device", entity_id="d1", reason="cleared", actor="a", idempotency_key="k3"
    )
    assert released["status"] == "released" and released["previous_status"] == "blocked"
    assert blocks.blocked_set(db, "t1", [("device", "d1")]) == set()
    with pytest.raises(ValidationFailed):
        blocks.block_entity(
            db, "t1", kind="planet", entity_id="x", reason="x", actor="a", idempotency_key="k4"
        )


def test_tools_registered_with_kinds() -> None:
    for name, kind in TOOL_NAMES.items():
        tool = default_registry.get(name)
        assert tool.kind is kind
        assert tool.description


def test_tools_score_explain_block_and_isolate_tenants(
    db: Database, trained: TrainingRun, sim_frame: pd.DataFrame
) -> None:
    hub = FraudHub(trained.model)
    legit = sim_frame[sim_frame["pattern"] == "legit"].iloc[:30]
    ctx = _ctx(db, hub)
    results = [_call("score_transaction", ctx, **_payload(r)) for _, r in legit.iterrows()]
    ok = next(r for r in results if r["decision"] == "approve")
    row = legit[legit["txn_id"] == ok["txn_id"]].iloc[0]
    explained = _call("explain_score", ctx, txn_id=ok["txn_id"])
    assert explained["result"]["decision"] == "approve"
    assert len(explained["features"]) == len(trained.model.feature_names)
    graph = _call("entity_graph", ctx, kind="customer", entity_id=row["customer_id"])
    assert graph["found"] and any(n["id"] == row["card_id"] for n in graph["nodes"])
    report = _call("merchant_risk_report", ctx, merchant_id=row["merchant_id"])
    assert report["scored"] >= 1

    with pytest.raises(ValidationFailed):
        _call("block_entity", ctx, kind="device", entity_id=row["device_id"], reason="testing")
    wctx = _ctx(db, hub, key="call-1")
    blocked = _call(
        "block_entity", wctx, kind="device", entity_id=row["device_id"], reason="ring member"
    )
    assert blocked["status"] == "blocked"
    assert _call(
        "block_entity", wctx, kind="device", entity_id=row["device_id"], reason="ring member"
    )["replayed"]
    again = {**_payload(row), "txn_id": "after-block", "ts": float(row["ts"]) + 60}
    res = _call("score_transaction", ctx, **again)
    assert res["decision"] == "decline" and res["reasons"][0]["code"] == "ENTITY_BLOCKED"

    # Another tenant sees none of it: no scored txn, no graph, no block.
    other = _ctx(db, hub, tenant="t2")
    with pytest.raises(NotFound):
        _call("explain_score", other, txn_id=ok["txn_id"])
    with pytest.raises(NotFound):
        _call("entity_graph", other, kind="customer", entity_id=row["customer_id"])
    res2 = _call("score_transaction", other, **{**again, "txn_id": "t2-1"})
    assert "ENTITY_BLOCKED" not in res2["overrides"]
    released = _call(
        "release_entity",
        _ctx(db, hub, key="call-2"),
        kind="device",
        entity_id=row["device_id"],
        reason="false positive",
    )
    assert released["status"] == "released"


def test_block_cache_sees_other_workers_writes_within_max_age(tmp_path: Path) -> None:
    url = "sqlite:///" + str(tmp_path / "w.db")
    worker_a, worker_b = Database(url), Database(url)
    _core_and_fraud(worker_a)
    key = [("card", "c1")]
    assert blocks.blocked_set(worker_a, "t1", key) == set()  # cached empty on worker A
    blocks.block_entity(
        worker_b, "t1", kind="card", entity_id="c1", reason="x", actor="b", idempotency_key="w1"
    )
    assert blocks.blocked_set(worker_b, "t1", key) == {("card", "c1")}  # the writer sees it at once
    assert blocks.blocked_set(worker_a, "t1", key, max_age_s=60) == set()  # stale within max age
    assert blocks.blocked_set(worker_a, "t1", key, max_age_s=0) == {("card", "c1")}


def test_merchant_bound_key_sees_only_its_own_risk_report(
    db: Database, trained: TrainingRun, sim_frame: pd.DataFrame
) -> None:
    hub = FraudHub(trained.model)
    rows = sim_frame[sim_frame["pattern"] == "legit"].iloc[:20]
    ctx = _ctx(db, hub)
    for _, r in rows.iterrows():
        _call("score_transaction", ctx, **_payload(r))
    own, other = (
        rows["merchant_id"].iloc[0],
        next(m for m in rows["merchant_id"] if m != rows["merchant_id"].iloc[0]),
    )
    bound = ToolContext(
        principal=Principal(tenant_id="t1", role=Role.MERCHANT, key_id="k-bound", merchant_id=own),
        db=db,
        extras={"fraud": hub},
    )
    assert _call("merchant_risk_report", bound, merchant_id=own)
    with pytest.raises(NotFound):
        _call("merchant_risk_report", bound, merchant_id=other)
