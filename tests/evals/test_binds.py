"""Fraud-ring binds: customers of the fraud engine's demo history, found in its entity graph."""

from __future__ import annotations

from evals.bind import resolve_binds
from evals.task import Bind
from evals.world import Template


def _bind(template: Template, **binds: Bind) -> dict[str, dict[str, object]]:
    return resolve_binds(template.database, binds, merchant_id=None, merchants=template.merchants)


def test_ring_members_come_with_the_rings_shared_card_device_and_ip(template: Template) -> None:
    bound = _bind(
        template,
        a=Bind(kind="customer", fraud_ring=True),
        b=Bind(kind="customer", fraud_ring=True),
        big=Bind(kind="customer", fraud_ring=True, order="largest"),
    )
    a, b, big = bound["a"], bound["b"], bound["big"]
    assert str(a["id"]).startswith("ring_") and str(a["card"]).startswith("ringcard_")
    assert str(a["device"]).startswith("ringdev_") and str(a["ip"]).count(".") == 3
    # Two binds never share a ring; 'largest' picks the ring with the most connected accounts.
    assert a["ring_id"] != b["ring_id"] and len({a["id"], b["id"], big["id"]}) == 3
    assert int(str(big["accounts"])) >= max(int(str(a["accounts"])), int(str(b["accounts"]))) >= 4
    assert bound == _bind(
        template,
        a=Bind(kind="customer", fraud_ring=True),
        b=Bind(kind="customer", fraud_ring=True),
        big=Bind(kind="customer", fraud_ring=True, order="largest"),
    )


def test_clean_customers_are_genuine_accounts_with_their_own_card_and_device(
    template: Template,
) -> None:
    bound = _bind(template, c=Bind(kind="customer", fraud_ring=False))
    c = bound["c"]
    assert str(c["id"]).startswith("cus_") and c["ring_id"] == ""
    assert str(c["card"]).startswith("card_") and str(c["device"]).startswith("dev_")
    assert c["ip"] and c["country"]


def test_binds_match_the_live_entity_graph(template: Template, tmp_path: object) -> None:
    """What the bind says is what the risk agent's graph tool answers for the tenant."""
    from pathlib import Path

    from evals.host import host_world
    from evals.world import new_world

    bound = _bind(
        template,
        r=Bind(kind="customer", fraud_ring=True, index=1),
        c=Bind(kind="customer", fraud_ring=False),
    )
    world = new_world(template, Path(str(tmp_path)) / "w", role="admin", merchant=None)
    with host_world(world, in_process=True) as hosted:
        http = hosted.client.http.client
        ring = http.get(f"/v1/fraud/entities/customer/{bound['r']['id']}/graph").json()
        clean = http.get(f"/v1/fraud/entities/customer/{bound['c']['id']}/graph?hops=1").json()
    assert ring["ring_suspected"] and ring["component_accounts"] == bound["r"]["accounts"]
    shared = {s["id"] for s in ring["shared_devices_or_cards"]}
    assert {bound["r"]["card"], bound["r"]["device"]} <= shared
    assert bound["r"]["ip"] in {n["id"] for n in ring["nodes"]}
    assert not clean["ring_suspected"] and clean["component_known_fraud"] == 0
    linked = {n["id"] for n in clean["nodes"] if n["hops"] == 1}
    assert {bound["c"]["card"], bound["c"]["device"], bound["c"]["ip"]} <= linked
