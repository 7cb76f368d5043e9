"""enqueue and check_destination: which endpoints get a delivery, in the caller's transaction."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from cockpit.db.base import Base, utcnow
from cockpit.db.migrate import alembic_config
from cockpit.db.session import Database
from cockpit.errors import InternalError, ValidationFailed
from cockpit.webhooks import WebhookDelivery, WebhookEndpoint, check_destination, enqueue
from tests.cockpit.webhooks.kit import SQLITE_ONLY


def endpoint(
    db: Database,
    tenant: str,
    url: str,
    *,
    types: list[str] | None = None,
    merchant: str | None = None,
    enabled: bool = True,
) -> str:
    with db.tenant_session(tenant) as s:
        row = WebhookEndpoint(
            id=f"we_{abs(hash((tenant, url, merchant))) % 10**12:012d}",
            merchant_id=merchant,
            url=url,
            description="",
            event_types=types or ["*"],
            enabled=enabled,
            secrets=[],
            created_by="test",
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        s.add(row)
    return row.id


def deliveries(db: Database, tenant: str) -> list[WebhookDelivery]:
    with db.tenant_session(tenant) as s:
        return list(s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.endpoint_id)))


def test_migration_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ours = [d for d in diff if any(t in str(d) for t in ("webhook_endpoints", "webhook_deliv"))]
    assert ours == []


def test_migration_downgrades_and_upgrades_again(sqlite_db: Database) -> None:
    from alembic import command
    from sqlalchemy import inspect

    cfg = alembic_config(sqlite_db)
    with sqlite_db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "core_0007")
    assert "webhook_endpoints" not in inspect(sqlite_db.engine).get_table_names()
    with sqlite_db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
    assert "webhook_deliveries" in inspect(sqlite_db.engine).get_table_names()


@SQLITE_ONLY
def test_enqueue_matches_type_merchant_and_enabled(db: Database) -> None:
    wide = endpoint(db, "t-a", "https://a.example/all")
    runs_only = endpoint(db, "t-a", "https://a.example/runs", types=["run.completed"])
    mer1 = endpoint(db, "t-a", "https://a.example/m1", merchant="mer_1")
    endpoint(db, "t-a", "https://a.example/m2", merchant="mer_2")
    endpoint(db, "t-a", "https://a.example/off", enabled=False)
    endpoint(db, "t-b", "https://b.example/all")
    with db.tenant_session("t-a") as s:
        ids = enqueue(s, "t-a", "monitor.finding", {"n": 1}, merchant_id="mer_1")
    rows = deliveries(db, "t-a")
    assert {r.endpoint_id for r in rows} == {wide, mer1}
    assert sorted(ids) == sorted(r.id for r in rows)
    assert all(r.id.startswith("msg_") and r.status == "pending" for r in rows)
    assert rows[0].payload["type"] == "monitor.finding"
    assert rows[0].payload["data"] == {"n": 1}
    assert rows[0].payload["timestamp"].startswith("2026-")
    assert deliveries(db, "t-b") == []
    with db.tenant_session("t-a") as s:
        enqueue(s, "t-a", "run.completed", {"run_id": "r"})
    assert runs_only in {r.endpoint_id for r in deliveries(db, "t-a")}


@SQLITE_ONLY
def test_enqueue_rolls_back_with_the_caller(db: Database) -> None:
    endpoint(db, "t-a", "https://a.example/all")
    with pytest.raises(RuntimeError), db.tenant_session("t-a") as s:
        assert len(enqueue(s, "t-a", "monitor.finding", {})) == 1
        raise RuntimeError("the caller's change failed")
    assert deliveries(db, "t-a") == []


@SQLITE_ONLY
def test_enqueue_to_a_url_reaches_only_that_endpoint(db: Database) -> None:
    endpoint(db, "t-a", "https://a.example/all", types=["monitor.finding"])
    target = endpoint(db, "t-a", "https://a.example/hook", types=["monitor.finding"])
    own = endpoint(db, "t-a", "https://a.example/hook", merchant="mer_1")
    with db.tenant_session("t-a") as s:
        ids = enqueue(s, "t-a", "run.completed", {}, url="https://a.example/hook")
        ids_m = enqueue(
            s, "t-a", "run.completed", {}, url="https://a.example/hook", merchant_id="mer_1"
        )
        none = enqueue(s, "t-a", "run.completed", {}, url="https://b.example/hook")
    by_id = {r.id: r.endpoint_id for r in deliveries(db, "t-a")}
    assert [by_id[i] for i in ids] == [target]
    assert [by_id[i] for i in ids_m] == [own]  # the merchant's own endpoint wins
    assert none == []


@SQLITE_ONLY
def test_check_destination_accepts_only_registered_enabled_urls(db: Database) -> None:
    endpoint(db, "t-a", "https://a.example/hook")
    endpoint(db, "t-a", "https://a.example/off", enabled=False)
    endpoint(db, "t-a", "https://a.example/m2", merchant="mer_2")
    endpoint(db, "t-b", "https://b.example/hook")
    with db.tenant_session("t-a") as s:
        check_destination(s, "t-a", "https://a.example/hook")
        for url in ("https://a.example/off", "https://b.example/hook", "https://x.example/"):
            with pytest.raises(ValidationFailed) as err:
                check_destination(s, "t-a", url)
            assert (err.value.code, err.value.param) == ("webhook_not_registered", "webhook")
        with pytest.raises(ValidationFailed):
            check_destination(s, "t-a", "https://a.example/m2", merchant_id="mer_1")
        check_destination(s, "t-a", "https://a.example/m2", merchant_id="mer_2")


@SQLITE_ONLY
def test_enqueue_refuses_undeclared_types_and_other_tenants_sessions(db: Database) -> None:
    with db.tenant_session("t-a") as s:
        with pytest.raises(InternalError) as err:
            enqueue(s, "t-a", "monitor.findings", {})
        assert err.value.code == "unknown_event"
        with pytest.raises(InternalError) as err:
            enqueue(s, "t-b", "monitor.finding", {})
        assert err.value.code == "wrong_tenant"
