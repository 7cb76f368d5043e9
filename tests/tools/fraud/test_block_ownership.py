"""Fraud blocks and the entity graph respect merchant ownership (issue 13).

A block records who set it (``merchant_id``; NULL = tenant-wide, set by a key bound to no
merchant). A merchant's block declines only that merchant's payments — one merchant must not
deny service at another — while a tenant-wide block declines every merchant's. A bound key
releases only its own merchant's blocks (another merchant's is 404 like an entity never
blocked; a tenant-wide one, which its list shows, is 403 ``tenant_block``) and lists only its
own plus the tenant-wide ones.

The entity graph stays one per tenant (fraud rings cross merchants, so the counts are the
signal), but a bound key sees ids only of entities seen in its own merchant's traffic; the
rest are counted. A key bound to no merchant sees exactly the unmasked graph.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cockpit.api.deps import RequestContext, request_context
from cockpit.api.errors import install_error_handlers
from cockpit.config import Settings
from cockpit.db.migrate import upgrade
from cockpit.db.session import Database
from cockpit.errors import NotFound
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit import ToolContext, default_registry
from tests.support.merchants import add_merchant
from tools.fraud.router import router
from tools.fraud.service import FraudHub
from tools.fraud.training import TrainingRun

T0 = datetime(2025, 3, 4, 10, 0, tzinfo=UTC).timestamp()
TENANT = "t-blk"
A, B = "mer_blk_a", "mer_blk_b"


def _open(url: str) -> Database:
    database = Database(url)
    upgrade(database)
    add_merchant(database, TENANT, A)
    add_merchant(database, TENANT, B)
    return database


@pytest.fixture()
def db(migrated_backend_url: str) -> Iterator[Database]:
    """SQLite always; PostgreSQL when reachable (root conftest's ``migrated_backend_url``: a
    copy of a database migrated once, so ``_open``'s upgrade only checks it is current)."""
    database = _open(migrated_backend_url)
    yield database
    database.dispose()


@pytest.fixture()
def lite(tmp_path: Path) -> Iterator[Database]:
    database = _open("sqlite:///" + str(tmp_path / "graph.db"))
    yield database
    database.dispose()


@pytest.fixture()
def hub(trained: TrainingRun) -> FraudHub:
    return FraudHub(trained.model)


def _principal(merchant: str | None) -> Principal:
    return Principal(TENANT, Role.MERCHANT, f"k-{merchant or 'tenant'}", merchant)


class _Key:
    """One API key of the tenant, by REST (``http``) and through the agent tools (``tool``)."""

    def __init__(self, db: Database, hub: FraudHub, tmp_path: Path, merchant: str | None):
        self.db, self.hub, self.merchant = db, hub, merchant
        app = FastAPI()
        install_error_handlers(app)
        app.include_router(router)

        def ctx() -> RequestContext:
            return RequestContext(
                principal=_principal(merchant),
                db=db,
                settings=Settings(data_dir=tmp_path / "data"),
                extras={"fraud": hub},
            )

        app.dependency_overrides[request_context] = ctx
        self.http = TestClient(app, raise_server_exceptions=False)
        self._n = 0

    def tool(self, name: str, **args: Any) -> Any:
        self._n += 1
        tool = default_registry.get(name)
        ctx = ToolContext(
            principal=_principal(self.merchant),
            db=self.db,
            extras={"fraud": self.hub},
            idempotency_key=f"idem-tool-{self.merchant}-{self._n}",
        )
        return tool.fn(ctx, tool.args.model_validate(args))

    def write(self, action: str, kind: str, entity_id: str, *, idem: str | None = None) -> Any:
        self._n += 1
        body = {"kind": kind, "entity_id": entity_id, "reason": f"{action} by test"}
        key = idem or f"idem-{self.merchant}-{self._n}"
        return self.http.post(
            f"/v1/fraud/entities/{action}", json=body, headers={"Idempotency-Key": key}
        )

    def blocks(self) -> set[tuple[str, str, str | None]]:
        r = self.http.get("/v1/fraud/entities/blocks")
        assert r.status_code == 200, r.text
        return {
            (b["kind"], b["entity_id"], b["merchant_id"])
            for b in r.json()["blocks"]
            if b["status"] == "blocked"
        }


@pytest.fixture()
def keys(db: Database, hub: FraudHub, tmp_path: Path) -> dict[str | None, _Key]:
    return {m: _Key(db, hub, tmp_path, m) for m in (A, B, None)}


def _txn(
    txn_id: str,
    merchant: str,
    *,
    minutes: float = 0.0,
    customer: str = "cus_blk_1",
    card: str = "card_blk_1",
    device: str = "dev_blk_1",
    ip: str = "198.51.100.19",
) -> dict[str, Any]:
    return {
        "txn_id": txn_id,
        "ts": T0 + 60 * minutes,
        "customer_id": customer,
        "card_id": card,
        "device_id": device,
        "ip": ip,
        "merchant_id": merchant,
        "amount_minor": 4_200,
        "currency": "USD",
        "account_created_ts": T0 - 86_400 * 100,
    }


def _blocked(result: dict[str, Any]) -> bool:
    return "ENTITY_BLOCKED" in result["overrides"]


# ----- blocks ---------------------------------------------------------------------------------


def test_a_merchants_block_declines_its_own_payments_only(keys: dict[str | None, _Key]) -> None:
    a, b, tenant = keys[A], keys[B], keys[None]
    r = a.write("block", "card", "card_blk_1")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["merchant_id"]) == ("blocked", A)

    assert _blocked(a.http.post("/v1/fraud/score", json=_txn("t1", A)).json())
    at_b = b.http.post("/v1/fraud/score", json=_txn("t2", B, minutes=1))
    assert at_b.status_code == 200 and not _blocked(at_b.json())  # B is not denied service
    assert not _blocked(b.tool("score_transaction", **_txn("t3", B, minutes=2)))

    # A tenant-wide key scoring both merchants' payments in one batch: each gets its own blocks.
    batch = [_txn("t4", B, minutes=3), _txn("t5", A, minutes=4), _txn("t6", B, minutes=5)]
    r = tenant.http.post("/v1/fraud/score/batch", json={"transactions": batch})
    assert r.status_code == 200, r.text
    assert [_blocked(x) for x in r.json()["results"]] == [False, True, False]
    assert _blocked(tenant.tool("score_transaction", **_txn("t7", A, minutes=6)))
    assert not _blocked(tenant.tool("score_transaction", **_txn("t8", B, minutes=7)))


def test_a_tenant_wide_block_declines_every_merchants_payments(
    keys: dict[str | None, _Key],
) -> None:
    a, b, tenant = keys[A], keys[B], keys[None]
    r = tenant.write("block", "device", "dev_blk_1")
    assert r.status_code == 200 and r.json()["merchant_id"] is None
    assert _blocked(a.http.post("/v1/fraud/score", json=_txn("t1", A)).json())
    assert _blocked(b.http.post("/v1/fraud/score", json=_txn("t2", B, minutes=1)).json())
    assert _blocked(b.tool("score_transaction", **_txn("t3", B, minutes=2)))


def test_a_bound_key_releases_only_its_own_merchants_blocks(
    keys: dict[str | None, _Key],
) -> None:
    a, b, tenant = keys[A], keys[B], keys[None]
    assert a.write("block", "card", "card_blk_1").status_code == 200
    assert tenant.write("block", "ip", "198.51.100.19").status_code == 200

    # Another merchant's block does not exist for B: the same 404 as an entity never blocked.
    theirs = b.write("release", "card", "card_blk_1")
    never = b.write("release", "card", "card_never_blocked")
    assert theirs.status_code == never.status_code == 404, theirs.text
    assert theirs.json()["code"] == never.json()["code"] == "entity_not_blocked"
    with pytest.raises(NotFound):
        b.tool("release_entity", kind="card", entity_id="card_blk_1", reason="not mine")

    # A tenant-wide block is listed for bound keys, so it is refused, not hidden.
    r = a.write("release", "ip", "198.51.100.19")
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "tenant_block"

    # Nothing changed: A's block still declines A's payments, the tenant's still everyone's.
    assert a.blocks() == {("card", "card_blk_1", A), ("ip", "198.51.100.19", None)}
    assert _blocked(a.http.post("/v1/fraud/score", json=_txn("t1", A, ip="192.0.2.1")).json())

    # A releases its own; the tenant releases its own.
    r = a.write("release", "card", "card_blk_1")
    assert r.status_code == 200 and r.json()["previous_status"] == "blocked"
    assert tenant.write("release", "ip", "198.51.100.19").status_code == 200
    assert tenant.blocks() == set()
    assert not _blocked(a.http.post("/v1/fraud/score", json=_txn("t2", A, minutes=1)).json())


def test_a_merchant_may_block_what_another_merchant_blocked(keys: dict[str | None, _Key]) -> None:
    """Each merchant's block is its own: B releasing its block leaves A's in force."""
    a, b = keys[A], keys[B]
    assert a.write("block", "customer", "cus_blk_1").status_code == 200
    r = b.write("block", "customer", "cus_blk_1")
    assert r.status_code == 200 and r.json()["previous_status"] is None  # A's is not revealed
    assert b.write("release", "customer", "cus_blk_1").status_code == 200
    assert _blocked(a.http.post("/v1/fraud/score", json=_txn("t1", A)).json())
    assert a.blocks() == {("customer", "cus_blk_1", A)}
    assert b.blocks() == set()


def test_lists_show_own_and_tenant_wide_blocks_only(keys: dict[str | None, _Key]) -> None:
    a, b, tenant = keys[A], keys[B], keys[None]
    assert a.write("block", "card", "card_a").status_code == 200
    assert (
        b.tool("block_entity", kind="card", entity_id="card_b", reason="by tool")["merchant_id"]
        == B
    )
    assert tenant.write("block", "device", "dev_all").status_code == 200

    assert a.blocks() == {("card", "card_a", A), ("device", "dev_all", None)}
    assert b.blocks() == {("card", "card_b", B), ("device", "dev_all", None)}
    assert tenant.blocks() == {
        ("card", "card_a", A),
        ("card", "card_b", B),
        ("device", "dev_all", None),
    }
    assert "card_a" not in b.http.get("/v1/fraud/entities/blocks").text


def test_an_idempotency_key_never_replays_another_merchants_block(
    keys: dict[str | None, _Key],
) -> None:
    a, b = keys[A], keys[B]
    first = a.write("block", "card", "card_blk_1", idem="same-key")
    assert first.status_code == 200
    again = a.write("block", "card", "card_blk_1", idem="same-key")
    assert again.json()["replayed"] is True
    r = b.write("block", "card", "card_blk_1", idem="same-key")
    assert r.status_code == 409 and r.json()["code"] == "idempotency_key_reused"
    assert A not in r.text


# ----- entity graph ---------------------------------------------------------------------------


def _ring(key_a: _Key, key_b: _Key) -> None:
    """One account at A and three at B share a device; one B account also pays at A."""
    key_a.http.post(
        "/v1/fraud/score", json=_txn("g1", A, customer="cus_a1", card="card_a1", device="dev_ring")
    )
    for i, cus in enumerate(("cus_b1", "cus_b2", "cus_b3")):
        key_b.http.post(
            "/v1/fraud/score",
            json=_txn(
                f"g{2 + i}", B, minutes=1 + i, customer=cus, card=f"card_{cus}", device="dev_ring"
            ),
        )
    key_a.http.post(
        "/v1/fraud/score",
        json=_txn("g9", A, minutes=9, customer="cus_b3", card="card_b3_at_a", device="dev_b3"),
    )


def test_a_bound_key_sees_only_its_own_merchants_entity_ids(
    lite: Database, hub: FraudHub, tmp_path: Path
) -> None:
    a, b, tenant = (_Key(lite, hub, tmp_path, m) for m in (A, B, None))
    _ring(a, b)
    full = tenant.http.get("/v1/fraud/entities/customer/cus_a1/graph?hops=3").json()
    seen = a.http.get("/v1/fraud/entities/customer/cus_a1/graph?hops=3")
    assert seen.status_code == 200, seen.text
    mine = seen.json()

    ids = {n["id"] for n in mine["nodes"]}
    assert {"cus_a1", "card_a1", "dev_ring", "cus_b3"} <= ids  # all seen in A's traffic
    assert not ids & {"cus_b1", "cus_b2", "card_cus_b1", "card_cus_b2"}
    text = seen.text
    for hidden in ("cus_b1", "cus_b2", "card_cus_b1", "card_cus_b2", "card_cus_b3"):
        assert hidden not in text
    for link in mine["links"]:
        assert {link["account"], link["entity"]} <= ids
    # The signal stays: the same counts and ring verdict, the hidden ones counted.
    for field in ("component_accounts", "component_known_fraud", "ring_suspected"):
        assert mine[field] == full[field]
    assert mine["accounts_in_view"] == full["accounts_in_view"]
    assert mine["other_merchants"] == {
        "accounts": 2,  # cus_b1, cus_b2
        "cards": 3,  # card_cus_b1..3
        "devices": 0,
        "ips": 0,
        "shared_devices_or_cards": 0,
    }
    assert {n["id"] for n in full["nodes"]} >= {"cus_b1", "cus_b2", "card_cus_b1"}
    assert "other_merchants" not in full  # a tenant-wide key sees the graph as it always did

    # An entity seen only at another merchant is not found, exactly like an unknown one.
    theirs = a.http.get("/v1/fraud/entities/customer/cus_b1/graph")
    unknown = a.http.get("/v1/fraud/entities/customer/cus_nobody/graph")
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["code"] == unknown.json()["code"] == "entity_not_found"
    with pytest.raises(NotFound):
        a.tool("entity_graph", kind="customer", entity_id="cus_b1")
    assert b.tool("entity_graph", kind="customer", entity_id="cus_b1")["found"]

    via_tool = a.tool("entity_graph", kind="device", entity_id="dev_ring")
    assert "cus_b1" not in str(via_tool) and via_tool["other_merchants"]["accounts"] == 2


def test_a_tenant_wide_key_sees_the_unmasked_graph(
    lite: Database, hub: FraudHub, tmp_path: Path
) -> None:
    a, b, tenant = (_Key(lite, hub, tmp_path, m) for m in (A, B, None))
    _ring(a, b)
    graph = hub.tenant(TENANT).scorer.engine.graph
    for kind, entity in (("customer", "cus_a1"), ("device", "dev_ring"), ("customer", "cus_b1")):
        expected = {"kind": kind, "entity_id": entity, **graph.neighbourhood(kind, entity)}
        got = tenant.http.get(f"/v1/fraud/entities/{kind}/{entity}/graph").json()
        assert got == expected
        assert tenant.tool("entity_graph", kind=kind, entity_id=entity) == expected


def test_batch_runs_give_every_payment_exactly_its_own_merchants_blocks() -> None:
    """Any interleaving of merchants and shared entities: each run's one blocked set declines a
    payment iff a block of its own merchant (or the tenant) covers one of its entities."""
    import random

    from tools.fraud.blocks import ActiveBlocks
    from tools.fraud.schema import parse_transaction
    from tools.fraud.scoring import entity_keys
    from tools.fraud.service import _blocked_runs

    rng = random.Random(13)
    merchants = [A, B, "mer_blk_c"]
    scopes: dict[tuple[str, str], frozenset[str | None]] = {
        ("card", f"c{i}"): frozenset(rng.sample([*merchants, None], rng.randint(1, 2)))
        for i in range(4)
    }
    blocked = ActiveBlocks(scopes=scopes)
    txns = [
        parse_transaction(
            _txn(f"p{i}", rng.choice(merchants), minutes=i, card=f"c{rng.randrange(8)}")
        )
        for i in range(300)
    ]
    runs = _blocked_runs(txns, blocked)
    assert [i for a, b, _ in runs for i in range(a, b)] == list(range(len(txns)))
    assert len(runs) < len(txns)
    for a, b, keys in runs:
        for t in txns[a:b]:
            declined = any(k in keys for k in entity_keys(t))
            assert declined == bool(blocked.matching(entity_keys(t), t.merchant_id))
