"""Running monitors: new findings are stored once per condition and period (dedup), each with
its webhook deliveries in the same transaction; settings change schedules and thresholds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cockpit.db.session import Database
from cockpit.errors import NotFound, ValidationFailed
from cockpit.webhooks import WebhookDelivery, WebhookEndpoint
from tests.tools.payments.monitors import world
from tests.tools.payments.monitors.world import NOW, TENANT
from tools.payments.monitors import run_monitors, schedules, store
from tools.payments.monitors.models import MonitorFinding, MonitorSchedule

MISSING = {"step": "ownership and documents", "missing": ["UBO_PROVE", "ADDRESS_PROOF"]}


def endpoint(
    db: Database, *, merchant_id: str | None = None, types: list[str] | None = None
) -> str:
    with db.tenant_session(TENANT) as s:
        row = WebhookEndpoint(
            id=f"we_test{merchant_id or 'all'}",
            merchant_id=merchant_id,
            url="https://receiver.example/hook",
            description="",
            event_types=types or ["monitor.finding"],
            enabled=True,
            secrets=[],
            created_by="k",
        )
        s.add(row)
        return row.id


def deliveries(db: Database) -> list[WebhookDelivery]:
    with db.tenant_session(TENANT) as s:
        return list(s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at)))


def test_a_new_finding_is_stored_and_queued_once_and_a_repeat_changes_nothing(
    db: Database,
) -> None:
    world.merchant(db, kyb_state="IN_REVIEW", kyb_detail=MISSING)
    endpoint(db)
    first = run_monitors(db, TENANT, "mer_mon", now=NOW)
    (finding,) = first["new_findings"]
    assert finding["monitor"] == "kyb_missing_documents" and finding["status"] == "open"
    assert first["errors"] == {} and len(first["monitors"]) == 5
    (sent,) = deliveries(db)
    assert sent.event_type == "monitor.finding" and sent.status == "pending"
    assert sent.payload["data"]["id"] == finding["id"]
    assert sent.payload["data"]["summary"] == finding["summary"]
    # The same condition later the same day (and the next): no new finding, no new delivery.
    again = run_monitors(db, TENANT, "mer_mon", now=NOW + timedelta(days=1))
    assert again["new_findings"] == []
    assert len(deliveries(db)) == 1
    with db.tenant_session(TENANT) as s:
        row = s.get(MonitorFinding, finding["id"])
        assert row is not None and row.deliveries == [sent.id]


def test_a_changed_condition_is_a_new_finding(db: Database) -> None:
    world.merchant(db, kyb_state="IN_REVIEW", kyb_detail=MISSING)
    run_monitors(db, TENANT, "mer_mon", now=NOW)
    with db.tenant_session(TENANT) as s:
        from tools.payments.models import Merchant

        m = s.get(Merchant, "mer_mon")
        assert m is not None
        m.kyb_detail = {"missing": ["ADDRESS_PROOF"]}  # the UBO proof arrived
    (new,) = run_monitors(db, TENANT, "mer_mon", now=NOW)["new_findings"]
    assert new["figures"]["missingDocuments"] == ["ADDRESS_PROOF"]


def test_a_failing_monitor_is_booked_and_the_others_still_run(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tools.payments.monitors import catalogue

    world.merchant(db, kyb_state="IN_REVIEW", kyb_detail=MISSING)
    broken = catalogue.MONITORS["success_rate_drop"]

    def boom(ctx: object) -> list[object]:
        raise RuntimeError("broken check")

    monkeypatch.setitem(
        catalogue.MONITORS,
        "success_rate_drop",
        type(broken)(**{**{f: getattr(broken, f) for f in broken.__slots__}, "check": boom}),
    )
    out = run_monitors(db, TENANT, "mer_mon", now=NOW)
    assert out["errors"] == {"success_rate_drop": "RuntimeError"}
    assert [f["monitor"] for f in out["new_findings"]] == ["kyb_missing_documents"]
    with db.tenant_session(TENANT) as s:
        job = s.scalar(
            select(MonitorSchedule).where(MonitorSchedule.monitor == "success_rate_drop")
        )
        assert job is not None and job.last_status == "error" and job.runs == 1


def test_findings_filter_scope_and_acknowledge(db: Database) -> None:
    world.merchant(db, kyb_state="IN_REVIEW", kyb_detail=MISSING)
    world.merchant(db, "mer_two")
    world.disputes(db, "mer_two", 2, due=NOW + timedelta(days=1))
    run_monitors(db, TENANT, "mer_mon", now=NOW)
    run_monitors(db, TENANT, "mer_two", now=NOW)
    with db.tenant_session(TENANT) as s:
        everything = store.list_findings(s)
        assert len(everything) == 3
        mine = store.list_findings(s, merchant_id="mer_two")
        assert {f["monitor"] for f in mine} == {"dispute_deadline"} and len(mine) == 2
        assert store.list_findings(s, severity="critical", monitor="kyb_missing_documents")
        assert store.list_findings(s, status="acknowledged") == []
        fid = mine[0]["id"]
        with pytest.raises(NotFound) as err:
            store.scoped_finding(s, fid, "mer_mon")  # another merchant's finding
        assert err.value.code == "finding_not_found"
        done = store.acknowledge(s, fid, merchant_id="mer_two", by="key_1", at=NOW)
        assert done["status"] == "acknowledged" and done["acknowledged_at"]
        assert [f["id"] for f in store.list_findings(s, status="acknowledged")] == [fid]
        for bad in ({"severity": "loud"}, {"status": "done"}, {"monitor": "nope"}):
            with pytest.raises(ValidationFailed):
                store.list_findings(s, **bad)  # type: ignore[arg-type]


def test_settings_change_the_fx_limit_and_the_schedule(db: Database) -> None:
    world.merchant(db)
    world.captures(db, "mer_mon", 3_000_000, "USD")
    assert run_monitors(db, TENANT, "mer_mon", now=NOW)["new_findings"] == []
    change = schedules.SettingsChange.model_validate(
        {
            "monitors": {
                "fx_exposure_limit": {"params": {"limit": 10_000}, "cron": "0 6 * * *"},
                "dispute_deadline": {"enabled": False},
            }
        }
    )
    with db.tenant_session(TENANT) as s:
        view = schedules.update_settings(s, "mer_mon", change, now=NOW)
    fx = next(m for m in view["monitors"] if m["monitor"] == "fx_exposure_limit")
    assert fx["params"]["limit"] == 10_000 and fx["changed_params"] == ["limit"]
    assert fx["cron"] == "0 6 * * *" and fx["next_run_at"] == "2026-11-26T06:00:00+00:00"
    dd = next(m for m in view["monitors"] if m["monitor"] == "dispute_deadline")
    assert dd["enabled"] is False
    (f,) = run_monitors(db, TENANT, "mer_mon", now=NOW)["new_findings"]
    assert f["monitor"] == "fx_exposure_limit"
    # A null goes back to the default.
    reset = schedules.SettingsChange.model_validate(
        {"monitors": {"fx_exposure_limit": {"params": {"limit": None}}}}
    )
    with db.tenant_session(TENANT) as s:
        view = schedules.update_settings(s, "mer_mon", reset, now=NOW)
    fx = next(m for m in view["monitors"] if m["monitor"] == "fx_exposure_limit")
    assert fx["params"]["limit"] is None and fx["changed_params"] == []


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"nope": {}}, "unknown_monitor", "monitors.nope"),
        (
            {"fx_exposure_limit": {"params": {"limit": -1}}},
            "invalid_monitor_params",
            "monitors.fx_exposure_limit.params.limit",
        ),
        (
            {"fx_exposure_limit": {"params": {"color": 1}}},
            "invalid_monitor_params",
            "monitors.fx_exposure_limit.params.color",
        ),
        (
            {"dispute_deadline": {"cron": "61 * * * *"}},
            "invalid_schedule",
            "monitors.dispute_deadline.cron",
        ),
    ],
)
def test_bad_settings_are_refused_with_code_and_param(
    db: Database, body: dict[str, object], code: str, param: str
) -> None:
    world.merchant(db)
    change = schedules.SettingsChange.model_validate({"monitors": body})
    with pytest.raises(ValidationFailed) as err, db.tenant_session(TENANT) as s:
        schedules.update_settings(s, "mer_mon", change, now=NOW)
    assert (err.value.code, err.value.param) == (code, param)
    with db.tenant_session(TENANT) as s:  # nothing was half-written
        assert s.scalar(select(func.count()).select_from(MonitorSchedule)) == 0
