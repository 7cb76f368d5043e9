"""Credit decisions are merchant-scoped: a merchant-bound key decides for and reads only its own
merchant; admin and partner keys see the whole tenant. Through HTTP on the real app, plus the
``credit_0002`` migration that adds ``credit_decisions.merchant_id``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import inspect

from cockpit.db import migrate as core_migrate
from cockpit.db.session import Database
from tests.support.apptest import Api, running_app
from tests.support.merchants import add_merchant

TENANT = "t-credit-scope"
MER_A, MER_B = "mer_scope_a", "mer_scope_b"
STRATEGY = Path(__file__).parents[3] / "tools" / "credit" / "strategies" / "merchant_default.json"
APPLICANT: dict[str, Any] = {
    "monthly_revenue": 42_000,
    "revenue_growth": 0.08,
    "revenue_volatility": 0.15,
    "dispute_rate": 0.002,
    "refund_rate": 0.01,
    "tenure_months": 40,
    "mcc_risk": "low",
    "market": "EU",
    "requested_amount": 20_000,
    "existing_financing": "none",
}


@dataclass
class World:
    api: Api
    admin: str
    partner: str
    a: str
    b: str

    def get(self, key: str, path: str) -> Any:
        return self.api.client.get(path, headers=self.api.h(key))

    def decide(self, key: str, idem: str, **extra: Any) -> Any:
        return self.api.client.post(
            "/v1/credit/applications",
            json={"strategy": "merchant-default", "applicant": APPLICANT, **extra},
            headers={**self.api.h(key), "idempotency-key": idem},
        )

    def stored_decisions(self) -> list[dict[str, Any]]:
        r = self.get(self.admin, "/v1/audit?kind=credit_decision&limit=1000")
        assert r.status_code == 200, r.text
        return list(r.json())


def _key(api: Api, admin: str, role: str, merchant_id: str | None = None) -> str:
    r = api.client.post(
        "/v1/keys", json={"role": role, "merchant_id": merchant_id}, headers=api.h(admin)
    )
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_app(tmp_path_factory.mktemp("scope")) as api:
        admin = api.tenant(TENANT)
        r = api.client.post(
            "/v1/credit/strategies",
            json=json.loads(STRATEGY.read_text()),
            headers=api.h(admin),
        )
        assert r.status_code == 201, r.text
        r = api.client.post(
            f"/v1/credit/strategies/{r.json()['id']}/deploy",
            headers={**api.h(admin), "idempotency-key": "scope-deploy"},
        )
        assert r.status_code == 200, r.text
        for merchant in (MER_A, MER_B):
            add_merchant(api.client.app.state.services.db, TENANT, merchant)  # type: ignore[attr-defined]
        yield World(
            api,
            admin,
            _key(api, admin, "partner"),
            _key(api, admin, "merchant", MER_A),
            _key(api, admin, "merchant", MER_B),
        )


@pytest.fixture(scope="module")
def decisions(world: World) -> dict[str, dict[str, Any]]:
    """One decision per merchant key, and one tenant-level decision of the admin."""
    out = {}
    for name, key in (("a", world.a), ("b", world.b), ("tenant", world.admin)):
        r = world.decide(key, f"scope-{name}", application_id=f"app-scope-{name}")
        assert r.status_code == 201, r.text
        out[name] = r.json()
    return out


def _same_as_unknown(world: World, key: str, path: str, decision_id: str) -> dict[str, Any]:
    """GET ``path`` for ``decision_id`` and for an id that never existed: both 404, same body."""
    hidden = world.get(key, path.format(decision_id))
    unknown_id = "cdec_" + "0" * 24
    unknown = world.get(key, path.format(unknown_id))
    assert hidden.status_code == unknown.status_code == 404, hidden.text
    body, other = hidden.json(), unknown.json()
    assert body["code"] == "decision_not_found"
    assert body.keys() == other.keys()
    assert body["message"].replace(decision_id, "<id>") == other["message"].replace(
        unknown_id, "<id>"
    )
    assert {k: v for k, v in body.items() if k != "message"} == {
        k: v for k, v in other.items() if k != "message"
    }
    return dict(body)


# ----- reads -----------------------------------------------------------------------------------


def test_decisions_record_the_merchant_they_are_for(
    world: World, decisions: dict[str, dict[str, Any]]
) -> None:
    assert decisions["a"]["merchant_id"] == MER_A
    assert decisions["b"]["merchant_id"] == MER_B
    assert decisions["tenant"]["merchant_id"] is None
    for name, rec in decisions.items():
        stored = world.get(world.admin, f"/v1/credit/decisions/{rec['id']}")
        assert stored.status_code == 200 and stored.json()["merchant_id"] == rec["merchant_id"], (
            name
        )
    audited = {r["subject"]: r["payload"]["merchant_id"] for r in world.stored_decisions()}
    assert audited[decisions["a"]["id"]] == MER_A


@pytest.mark.parametrize(
    "path", ["/v1/credit/decisions/{}", "/v1/credit/decisions/{}/explain"], ids=["get", "explain"]
)
def test_merchant_reads_only_its_own_decisions(
    world: World, decisions: dict[str, dict[str, Any]], path: str
) -> None:
    a_id, b_id = decisions["a"]["id"], decisions["b"]["id"]
    own = world.get(world.a, path.format(a_id))
    assert own.status_code == 200, own.text
    assert own.json()["id"] == a_id and own.json()["merchant_id"] == MER_A
    # B's decision and the admin's tenant-level one are "not found", exactly like an unknown id.
    for hidden in (b_id, decisions["tenant"]["id"]):
        body = _same_as_unknown(world, world.a, path, hidden)
        assert MER_B not in json.dumps(body) and "app-scope-b" not in json.dumps(body)
    assert world.get(world.b, path.format(b_id)).status_code == 200
    _same_as_unknown(world, world.b, path, a_id)


def test_admin_and_partner_read_every_merchants_decisions(
    world: World, decisions: dict[str, dict[str, Any]]
) -> None:
    for key in (world.admin, world.partner):
        for rec in decisions.values():
            for suffix in ("", "/explain"):
                r = world.get(key, f"/v1/credit/decisions/{rec['id']}{suffix}")
                assert r.status_code == 200, r.text
                assert r.json()["merchant_id"] == rec["merchant_id"]


# ----- writes ----------------------------------------------------------------------------------


def test_merchant_cannot_decide_for_another_merchant(
    world: World, decisions: dict[str, dict[str, Any]]
) -> None:
    before = len(world.stored_decisions())
    r = world.decide(world.a, "scope-a-for-b", merchant_id=MER_B, application_id="app-a-for-b")
    assert r.status_code == 404 and r.json()["code"] == "merchant_not_found"
    preview = world.api.client.post(
        "/v1/credit/applications/preview",
        json={"strategy": "merchant-default", "applicant": APPLICANT, "merchant_id": MER_B},
        headers=world.api.h(world.a),
    )
    assert preview.status_code == 404 and preview.json()["code"] == "merchant_not_found"
    # Reusing B's idempotency key does not replay B's decision to A.
    reused = world.decide(world.a, "scope-b")
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    assert decisions["b"]["id"] not in reused.text and MER_B not in reused.text
    assert len(world.stored_decisions()) == before
    # Naming its own merchant is fine, and a replay of its own key replays its own decision.
    own = world.decide(world.a, "scope-a-own", merchant_id=MER_A)
    assert own.status_code == 201 and own.json()["merchant_id"] == MER_A
    again = world.decide(world.a, "scope-a", application_id="app-scope-a")
    assert again.status_code == 200 and again.json()["id"] == decisions["a"]["id"]
    assert len(world.stored_decisions()) == before + 1


def test_admin_decides_for_a_named_merchant(world: World) -> None:
    r = world.decide(world.admin, "scope-admin-for-b", merchant_id=MER_B)
    assert r.status_code == 201 and r.json()["merchant_id"] == MER_B
    decision_id = r.json()["id"]
    assert world.get(world.b, f"/v1/credit/decisions/{decision_id}").status_code == 200
    _same_as_unknown(world, world.a, "/v1/credit/decisions/{}", decision_id)


# ----- migration -------------------------------------------------------------------------------


def _columns(db: Database) -> dict[str, dict[str, Any]]:
    with db.engine.connect() as conn:
        return {c["name"]: dict(c) for c in inspect(conn).get_columns("credit_decisions")}


def _alembic(db: Database, action: str, target: str) -> None:
    cfg = core_migrate.alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, target)


def test_migration_adds_the_merchant_column_and_backfills_it(backend_url: str) -> None:
    db = Database(backend_url)
    try:
        core_migrate.upgrade(db)  # a fresh database, straight to the heads
        assert "credit_0003" in core_migrate.current_heads(db)
        cols = _columns(db)
        assert cols["merchant_id"]["nullable"] is True
        with db.engine.connect() as conn:
            indexes = {i["name"] for i in inspect(conn).get_indexes("credit_decisions")}
        assert "ix_credit_decisions_merchant_id" in indexes

        _alembic(db, "downgrade", "credit_0001")
        assert "merchant_id" not in _columns(db)
        assert "credit_0001" in core_migrate.current_heads(db)
        _seed_pre_0002_decisions(db)
        _alembic(db, "upgrade", "heads")
        assert "merchant_id" in _columns(db)
        with db.engine.connect() as conn:
            rows = dict(conn.execute(sa.text("SELECT id, merchant_id FROM credit_decisions")).all())
        # Made by a key bound to a merchant: that merchant; by an unbound key: tenant-level.
        assert rows == {"cdec_by_merchant": MER_A, "cdec_by_admin": None}
    finally:
        db.dispose()


def _seed_pre_0002_decisions(db: Database) -> None:
    """A tenant, a merchant-bound and an unbound key, and one decision made by each (raw SQL:
    the ORM model already has the new column)."""
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO tenants (id, name, is_demo, created_at) "
                "VALUES ('tm', 'tm', :f, CURRENT_TIMESTAMP)"
            ),
            {"f": False},
        )
        for key_id, role, merchant in (
            ("key_merchant", "merchant", MER_A),
            ("key_admin", "admin", None),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO api_keys (id, tenant_id, role, name, secret_hash, merchant_id, "
                    "created_at) VALUES (:id, 'tm', :r, '', :h, :m, CURRENT_TIMESTAMP)"
                ),
                {"id": key_id, "r": role, "h": key_id.ljust(64, "x"), "m": merchant},
            )
        conn.execute(
            sa.text(
                "INSERT INTO credit_strategy_versions (id, tenant_id, name, version, description, "
                "scorecard_name, currency, spec, scorecard, content_hash, tests_passed, "
                "test_report, created_by, created_at) VALUES ('cstr_m', 'tm', 's', 1, '', "
                "'merchant_financing', 'EUR', '{}', '{}', 'h', :t, '{}', 'x', CURRENT_TIMESTAMP)"
            ),
            {"t": True},
        )
        for decision_id, key_id in (
            ("cdec_by_merchant", "key_merchant"),
            ("cdec_by_admin", "key_admin"),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO credit_decisions (id, tenant_id, strategy, version_id, arm, kind, "
                    "outcome, limit_minor, currency, score, pd, reasons, points, applicant, trace, "
                    "created_by, created_at) VALUES (:id, 'tm', 's', 'cstr_m', 'champion', "
                    "'decision', 'decline', 0, 'EUR', 500, 0.2, '[]', '{}', '{}', '[]', :by, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"id": decision_id, "by": key_id},
            )
