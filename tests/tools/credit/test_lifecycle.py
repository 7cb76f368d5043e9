"""Versions, deploy-by-swap, champion/challenger, rollback, stored decisions — on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest
from sqlalchemy import select

from cockpit.db.migrate import upgrade
from cockpit.db.session import Database
from cockpit.errors import Conflict, NotFound, ToolError, ValidationFailed
from tools.credit.live import bucket
from tools.credit.models import DecisionRow, DeploymentRow
from tools.credit.service import CreditService

SLOT = "consumer-default"


def _v2(spec: dict[str, Any]) -> dict[str, Any]:
    """A stricter version: cut-off up from 534 to 560 (its tests updated to match)."""
    body = copy.deepcopy(spec)
    dm = body["decision_model"]
    rules = next(n for n in dm["nodes"] if n["id"] == "decide")["content"]["rules"]
    next(r for r in rules if r["_id"] == "standard")["i_s"] = ">= 560"
    dm["tests"] = [
        t
        for t in dm["tests"]
        if t["name"] not in ("standard band at the cut-off", "near-prime limit is capped")
    ]
    return body


def _failing(spec: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(spec)
    body["decision_model"]["tests"][0]["output"]["decision"] = "decline"
    return body


@pytest.fixture
def svc(migrated_backend_url: str) -> CreditService:
    db = Database(migrated_backend_url)
    upgrade(db)
    yield CreditService(db)  # type: ignore[misc]
    db.dispose()


def test_create_test_backtest_deploy_decide_rollback(
    svc: CreditService, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    v1 = svc.create_version("t1", consumer_spec, created_by="k")
    v2 = svc.create_version("t1", _v2(consumer_spec), created_by="k")
    assert (v1["version"], v2["version"]) == (1, 2) and v1["tests_passed"] and v2["tests_passed"]
    assert svc.test_version("t1", v2["id"]).passed

    svc.deploy("t1", v1["id"], created_by="k")
    report = svc.backtest_version("t1", v2["id"]).to_dict()
    assert report["champion"]["version_id"] == v1["id"]
    # The stricter cut-off approves fewer and never approves someone v1 declined.
    assert report["strategy"]["approval_rate"] < report["champion"]["approval_rate"]
    assert report["swap_in"] == 0 and report["swap_out"] > 0

    dep = svc.deploy("t1", v2["id"], created_by="k")
    assert dep["previous_champion_version_id"] == v1["id"]
    rec = svc.decide("t1", SLOT, german_rows[0], created_by="k", application_id="app-1")
    assert rec["version_id"] == v2["id"] and rec["deployment_id"] == dep["id"]
    explained = svc.explain("t1", rec["id"])
    assert explained["trace"] and {p["feature"] for p in explained["points"]} == set(
        svc.compiled("t1", v2["id"]).scorecard.feature_names
    )

    back = svc.rollback("t1", SLOT, created_by="k")
    assert back["live"]["champion_version_id"] == v1["id"]
    assert svc.decide("t1", SLOT, german_rows[0], created_by="k")["version_id"] == v1["id"]
    with pytest.raises(Conflict) as err:
        svc.rollback("t1", SLOT, created_by="k")
    assert err.value.code == "nothing_to_roll_back"
    assert svc.deployment("t1", SLOT)["champion_version_id"] == v1["id"]


def test_a_version_whose_tests_fail_can_never_be_deployed(
    svc: CreditService, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    good = svc.create_version("t1", consumer_spec, created_by="k")
    bad = svc.create_version("t1", _failing(consumer_spec), created_by="k")
    assert not bad["tests_passed"] and bad["test_report"]["failed"] == 1
    svc.deploy("t1", good["id"], created_by="k")
    for kwargs in ({}, {"challenger_version_id": bad["id"], "challenger_share": 0.1}):
        target = good["id"] if kwargs else bad["id"]
        with pytest.raises(Conflict) as err:
            svc.deploy("t1", target, created_by="k", **kwargs)
        assert err.value.code == "strategy_tests_failed"
        assert (
            "embedded test" in err.value.message and err.value.details["test_report"]["failed"] == 1
        )
    # Nothing changed: still one deployment, still the good version deciding.
    with svc.db.tenant_session("t1") as s:
        assert len(s.execute(select(DeploymentRow)).scalars().all()) == 1
    assert svc.decide("t1", SLOT, german_rows[1], created_by="k")["version_id"] == good["id"]


def test_versions_are_tenant_scoped(
    svc: CreditService, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    v = svc.create_version("t1", consumer_spec, created_by="k")
    svc.deploy("t1", v["id"], created_by="k")
    rec = svc.decide("t1", SLOT, german_rows[0], created_by="k")
    for call in (
        lambda: svc.get_version("t2", v["id"]),
        lambda: svc.deploy("t2", v["id"], created_by="k"),
        lambda: svc.decide("t2", SLOT, german_rows[0], created_by="k"),
        lambda: svc.get_decision("t2", rec["id"]),
        lambda: svc.explain("t2", rec["id"]),
    ):
        with pytest.raises(NotFound):
            call()
    assert svc.list_versions("t2") == []
    # Same slot name in another tenant is an independent version line.
    assert svc.create_version("t2", consumer_spec, created_by="k")["version"] == 1


def test_decisions_are_idempotent_and_stored_with_trace(
    svc: CreditService, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    v = svc.create_version("t1", consumer_spec, created_by="k")
    svc.deploy("t1", v["id"], created_by="k")
    first = svc.decide("t1", SLOT, german_rows[2], created_by="k", idempotency_key="idem-1")
    again = svc.decide("t1", SLOT, german_rows[2], created_by="k", idempotency_key="idem-1")
    assert again["id"] == first["id"] and again["replayed"] and not first["replayed"]
    with svc.db.tenant_session("t1") as s:
        rows = s.execute(select(DecisionRow)).scalars().all()
    assert len(rows) == 1
    assert rows[0].trace[1]["node"] == "knockouts" and rows[0].applicant == german_rows[2]


def test_bad_input_writes_nothing(
    svc: CreditService, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    v = svc.create_version("t1", consumer_spec, created_by="k")
    svc.deploy("t1", v["id"], created_by="k")
    with pytest.raises(ValidationFailed) as err:
        svc.decide("t1", SLOT, {**german_rows[0], "duration_in_month": -3}, created_by="k")
    assert err.value.param == "applicant.duration_in_month"
    with pytest.raises(ValidationFailed):
        svc.create_version(
            "t1", {**consumer_spec, "decision_model": {"nodes": "x"}}, created_by="k"
        )
    with svc.db.tenant_session("t1") as s:
        assert s.execute(select(DecisionRow)).scalars().all() == []
    assert len(svc.list_versions("t1")) == 1


def test_final_decision_grants_at_most_the_strategy_limit(
    svc: CreditService, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    v = svc.create_version("t1", consumer_spec, created_by="k")
    svc.deploy("t1", v["id"], created_by="k")
    approved = next(r for r in german_rows if svc.preview("t1", SLOT, r)[1].outcome == "approve")
    limit_minor = round(svc.preview("t1", SLOT, approved)[1].limit * 100)
    with pytest.raises(ToolError) as err:
        svc.decide(
            "t1",
            SLOT,
            approved,
            created_by="k",
            kind="final",
            grant_minor=limit_minor + 1,
            grant_currency="EUR",
            idempotency_key="f1",
        )
    assert err.value.code == "amount_above_limit"
    with pytest.raises(ToolError) as err:
        svc.decide(
            "t1",
            SLOT,
            approved,
            created_by="k",
            kind="final",
            grant_minor=100,
            grant_currency="USD",
            idempotency_key="f1",
        )
    assert err.value.code == "currency_mismatch"
    rec = svc.decide(
        "t1",
        SLOT,
        approved,
        created_by="k",
        kind="final",
        grant_minor=limit_minor // 2,
        grant_currency="EUR",
        idempotency_key="f1",
    )
    assert (
        rec["decision"] == "approve"
        and rec["limit_minor"] == limit_minor // 2
        and rec["kind"] == "final"
    )


def test_in_flight_decisions_finish_on_the_version_they_started_with(
    service: CreditService, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    v1 = service.create_version("t1", consumer_spec, created_by="k")
    v2 = service.create_version("t1", _v2(consumer_spec), created_by="k")
    service.deploy("t1", v1["id"], created_by="k")
    in_flight = service.live_deployment("t1", SLOT)  # what a decision grabs at its start
    service.deploy("t1", v2["id"], created_by="k")
    assert in_flight.decide(german_rows[0])[1].version_id == v1["id"]
    assert service.live_deployment("t1", SLOT).decide(german_rows[0])[1].version_id == v2["id"]


def test_deploys_during_concurrent_decisions_never_break_one(
    service: CreditService, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    ids = [
        service.create_version(
            "t1", consumer_spec if i % 2 == 0 else _v2(consumer_spec), created_by="k"
        )["id"]
        for i in range(4)
    ]
    service.deploy("t1", ids[0], created_by="k")
    seen: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def worker() -> None:
        i = 0
        while not stop.is_set():
            try:
                live = service.live.get("t1", SLOT)
                assert live is not None
                seen.append(live.decide(german_rows[i % 1000])[1].version_id)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            i += 1

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for vid in ids[1:]:
        service.deploy("t1", vid, created_by="k")
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert set(seen) <= set(ids) and seen
    assert service.live_deployment("t1", SLOT).champion.version_id == ids[-1]


def test_champion_challenger_split_is_stable_and_close_to_the_share(
    service: CreditService, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    v1 = service.create_version("t1", consumer_spec, created_by="k")
    v2 = service.create_version("t1", _v2(consumer_spec), created_by="k")
    with pytest.raises(ValidationFailed):
        service.deploy(
            "t1", v1["id"], created_by="k", challenger_version_id=v2["id"], challenger_share=0.9
        )
    service.deploy(
        "t1", v1["id"], created_by="k", challenger_version_id=v2["id"], challenger_share=0.2
    )
    live = service.live_deployment("t1", SLOT)
    arms = [live.route(f"app-{i}")[0] for i in range(4000)]
    assert 0.17 < arms.count("challenger") / len(arms) < 0.23
    assert arms == [live.route(f"app-{i}")[0] for i in range(4000)]
    assert bucket(SLOT, "app-1") == bucket(SLOT, "app-1")
    # A stored decision records its arm and the other arm's outcome in shadow.
    app_id = next(f"app-{i}" for i, a in enumerate(arms) if a == "challenger")
    rec = service.decide("t1", SLOT, german_rows[0], created_by="k", application_id=app_id)
    assert rec["arm"] == "challenger" and rec["version_id"] == v2["id"]
    assert service.explain("t1", rec["id"])["shadow"]["version_id"] == v1["id"]


def test_a_deploy_on_one_worker_is_seen_by_another(
    db: Database, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    a, b = CreditService(db), CreditService(db)
    v1 = a.create_version("t1", consumer_spec, created_by="k")
    a.deploy("t1", v1["id"], created_by="k")
    assert b.decide("t1", SLOT, german_rows[0], created_by="k")["version_id"] == v1["id"]
    v2 = a.create_version("t1", _v2(consumer_spec), created_by="k")
    a.deploy("t1", v2["id"], created_by="k")
    assert b.decide("t1", SLOT, german_rows[0], created_by="k")["version_id"] == v2["id"]
    a.rollback("t1", SLOT, created_by="k")
    assert b.decide("t1", SLOT, german_rows[0], created_by="k")["version_id"] == v1["id"]


def test_deploy_is_idempotent_on_its_key(
    service: CreditService, consumer_spec: dict[str, Any]
) -> None:
    v = service.create_version("t1", consumer_spec, created_by="k")
    first = service.deploy("t1", v["id"], created_by="k", idempotency_key="d1")
    again = service.deploy("t1", v["id"], created_by="k", idempotency_key="d1")
    assert again["id"] == first["id"] and again["replayed"]


def test_lifecycle_events_go_to_the_hash_chained_audit_log(
    service: CreditService, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    from cockpit.audit import verify

    v1 = service.create_version("t1", consumer_spec, created_by="analyst")
    v2 = service.create_version("t1", _v2(consumer_spec), created_by="analyst")
    service.deploy("t1", v1["id"], created_by="analyst")
    service.deploy("t1", v2["id"], created_by="analyst")
    rec = service.decide("t1", SLOT, german_rows[0], created_by="api-key", idempotency_key="a1")
    service.decide(
        "t1", SLOT, german_rows[0], created_by="api-key", idempotency_key="a1"
    )  # replay: no new record
    service.rollback("t1", SLOT, created_by="analyst")
    kinds = [r["kind"] for r in service.audit.records("t1")]
    assert kinds == [
        "credit_strategy_created",
        "credit_strategy_created",
        "credit_strategy_deployed",
        "credit_strategy_deployed",
        "credit_decision",
        "credit_strategy_rolled_back",
    ]
    decision = service.audit.records("t1", kind="credit_decision")[0]
    assert decision["subject"] == rec["id"] and decision["payload"]["version_id"] == v2["id"]
    assert "applicant" not in decision["payload"]
    assert verify(service.db, "t1").ok
