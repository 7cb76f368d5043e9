"""/metrics: what a chat turn, an approval and the queue add up to, and who may read it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cockpit.observability import Metrics, observe_run, set_queue_depth_source
from cockpit.observability.metrics import OTHER, BoundedLabel
from tests.support.apptest import Api, running_app

TENANT = "obs-m"
TOKEN = "scrape-token-for-tests-0123456789"


@pytest.fixture
def api(tmp_path: Path, fresh_metrics: Metrics) -> Iterator[Api]:
    with running_app(tmp_path, metrics_token=TOKEN) as api:
        yield api


def _scrape(api: Api, **headers: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    r = api.client.get("/metrics", headers=headers or api.h(api.admin_key))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(r.text)
        for sample in family.samples
    }


def _value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _thread(api: Api, key: str) -> str:
    return str(api.client.post("/threads", json={}, headers=api.h(key)).json()["thread_id"])


def test_a_chat_turn_counts_its_tool_call_and_its_requests_by_route_template(api: Api) -> None:
    key = api.tenant(TENANT)
    tid = _thread(api, key)
    api.say(key, tid, "note counted")
    samples = _scrape(api)
    tool = {"tool": "spine_note", "kind": "read", "outcome": "ok"}
    assert _value(samples, "cockpit_tool_calls_total", **tool) == 1
    assert _value(samples, "cockpit_tool_duration_seconds_count", tool="spine_note") == 1
    assert _value(samples, "cockpit_runs_started_total", assistant="spine") == 1
    finished = {"assistant": "spine", "status": "success"}
    assert _value(samples, "cockpit_runs_finished_total", **finished) == 1
    assert _value(samples, "cockpit_run_duration_seconds_count", assistant="spine") == 1
    route = "/threads/{thread_id}/runs/wait"
    assert (
        _value(samples, "cockpit_http_requests_total", method="POST", route=route, status="200")
        == 1
    )
    assert (
        _value(samples, "cockpit_http_request_duration_seconds_count", method="POST", route=route)
        == 1
    )
    # Route templates, never raw paths: the thread id is nowhere in the exposition.
    text = api.client.get("/metrics", headers=api.h(api.admin_key)).text
    assert tid not in text and TENANT not in text


def test_a_payout_above_the_threshold_counts_an_approval_asked_and_decided(api: Api) -> None:
    key = api.tenant(TENANT)
    tid = _thread(api, key)
    out = api.say(key, tid, "pay 200.00 USD to ann")
    assert "__interrupt__" in out
    pending = api.client.get("/v1/approvals", params={"thread_id": tid}, headers=api.h(key)).json()
    samples = _scrape(api)
    assert _value(samples, "cockpit_approvals_requested_total", tool="spine_payout") == 1
    assert (
        _value(samples, "cockpit_approvals_decided_total", tool="spine_payout", outcome="approved")
        == 0
    )
    r = api.client.post(
        f"/v1/approvals/{pending[0]['approval_id']}/decision",
        json={"action": "approve"},
        headers=api.h(key),
    )
    assert r.status_code == 200, r.text
    samples = _scrape(api)
    assert (
        _value(samples, "cockpit_approvals_decided_total", tool="spine_payout", outcome="approved")
        == 1
    )
    write = {"tool": "spine_payout", "kind": "write", "outcome": "ok"}
    assert _value(samples, "cockpit_tool_calls_total", **write) == 1


def test_runs_count_by_assistant_and_status_with_their_duration(api: Api) -> None:
    with observe_run(tenant_id=TENANT, run_id="r1", thread_id="t1", assistant_id="spine") as obs:
        obs.status = "interrupted"
    with (
        pytest.raises(ValueError),
        observe_run(tenant_id=TENANT, run_id="r2", thread_id="t1", assistant_id="spine"),
    ):
        raise ValueError("the model failed")
    samples = _scrape(api)
    assert _value(samples, "cockpit_runs_started_total", assistant="spine") == 2
    assert (
        _value(samples, "cockpit_runs_finished_total", assistant="spine", status="interrupted") == 1
    )
    assert _value(samples, "cockpit_runs_finished_total", assistant="spine", status="error") == 1
    assert _value(samples, "cockpit_run_duration_seconds_count", assistant="spine") == 2
    assert _value(samples, "cockpit_runs_active") == 0


def test_queue_depth_comes_from_the_source_the_queue_sets(api: Api) -> None:
    previous = set_queue_depth_source(lambda: {"queued": 3, "leased": 1})
    try:
        samples = _scrape(api)
    finally:
        set_queue_depth_source(previous)
    assert _value(samples, "cockpit_run_queue_depth", status="queued") == 3
    assert _value(samples, "cockpit_run_queue_depth", status="leased") == 1


def test_a_failing_queue_source_does_not_fail_the_scrape(api: Api) -> None:
    def broken() -> dict[str, int]:
        raise ConnectionError("database away")

    previous = set_queue_depth_source(broken)
    try:
        samples = _scrape(api)
    finally:
        set_queue_depth_source(previous)
    assert not any(name == "cockpit_run_queue_depth" for name, _ in samples)


def test_only_platform_admins_and_the_scraper_token_read_metrics(api: Api) -> None:
    admin = api.tenant(TENANT)
    merchant = api.tenant(TENANT, role="merchant")
    r = api.client.get("/metrics")
    assert r.status_code == 401 and r.json()["code"] == "missing_api_key"
    r = api.client.get("/metrics", headers=api.h(merchant))
    assert r.status_code == 403 and r.json()["code"] == "role_required"
    r = api.client.get("/metrics", headers=api.h(admin))  # a tenant's admin: metrics span tenants
    assert r.status_code == 403 and r.json()["code"] == "platform_admin_only"
    r = api.client.get("/metrics", headers={"authorization": "Bearer not-the-token-0123456789"})
    assert r.status_code == 401
    assert (
        "cockpit_http_requests_total"
        in api.client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"}).text
    )
    assert _scrape(api)  # the platform admin key


def test_without_a_token_setting_a_bearer_is_just_an_api_key(tmp_path: Path) -> None:
    with running_app(tmp_path) as api:
        r = api.client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 401
        r = api.client.get("/metrics", headers={"authorization": f"Bearer {api.admin_key}"})
        assert r.status_code == 200


def test_open_ended_labels_keep_their_first_values_and_fold_the_rest() -> None:
    label = BoundedLabel(limit=2)
    assert [label(v) for v in ("a", "b", "c", "a", None)] == ["a", "b", OTHER, "a", OTHER]
    assert label("x" * 500) == OTHER
    wide = BoundedLabel(limit=10)
    assert len(wide("y" * 500)) == 100
