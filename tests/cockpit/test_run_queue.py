"""The run queue through the API: multitask strategies, delayed and batch runs, bulk cancel,
delete, resumable streams (``Last-Event-ID``) and run-completion webhooks — on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.apptest import Api, running_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("queue")
    with running_app(
        tmp, module_database_url, webhook_allowed_hosts=["127.0.0.1"], run_lease_s=3
    ) as app:
        yield app


def _thread(api: Api, h: dict[str, str]) -> str:
    return str(api.client.post("/threads", json={}, headers=h).json()["thread_id"])


def _run(api: Api, h: dict[str, str], tid: str, text: str, **extra: Any) -> Any:
    body = {"assistant_id": "spine", "input": {"messages": [text]}, **extra}
    r = api.client.post(f"/threads/{tid}/runs", headers=h, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _until(check: Any, what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _status(api: Api, h: dict[str, str], tid: str, rid: str) -> str:
    return str(api.client.get(f"/threads/{tid}/runs/{rid}", headers=h).json()["status"])


def _messages(api: Api, h: dict[str, str], tid: str) -> list[str]:
    state = api.client.get(f"/threads/{tid}/state", headers=h).json()
    return [str(m["content"]) for m in state["values"]["messages"]]


def test_enqueue_waits_its_turn_and_runs_after(api: Api) -> None:
    h = api.h(api.tenant("queue-enqueue"))
    tid = _thread(api, h)
    first = _run(api, h, tid, "sleep 1")
    second = _run(api, h, tid, "note after", multitask_strategy="enqueue")
    assert second["status"] == "pending"
    joined = api.client.get(f"/threads/{tid}/runs/{second['run_id']}/join", headers=h)
    assert joined.status_code == 200
    assert _status(api, h, tid, first["run_id"]) == "success"
    assert _status(api, h, tid, second["run_id"]) == "success"
    said = _messages(api, h, tid)
    assert said.index("sleep 1") < said.index("note after")


def test_interrupt_stops_the_running_run_and_keeps_its_progress(api: Api) -> None:
    h = api.h(api.tenant("queue-interrupt"))
    tid = _thread(api, h)
    first = _run(api, h, tid, "sleep 5")
    _until(lambda: _status(api, h, tid, first["run_id"]) == "running", "the first run")
    second = _run(api, h, tid, "note instead", multitask_strategy="interrupt")
    api.client.get(f"/threads/{tid}/runs/{second['run_id']}/join", headers=h)
    old = api.client.get(f"/threads/{tid}/runs/{first['run_id']}", headers=h).json()
    assert old["status"] == "interrupted" and old["error"]["code"] == "run_cancelled"
    assert _status(api, h, tid, second["run_id"]) == "success"
    assert "sleep 5" in _messages(api, h, tid)  # interrupt keeps what the old run wrote


def test_rollback_removes_the_running_run_and_what_it_wrote(api: Api) -> None:
    h = api.h(api.tenant("queue-rollback"))
    tid = _thread(api, h)
    api.client.post(
        f"/threads/{tid}/runs/wait",
        headers=h,
        json={"assistant_id": "spine", "input": {"messages": ["note before"]}},
    )
    first = _run(api, h, tid, "sleep 5")
    _until(lambda: _status(api, h, tid, first["run_id"]) == "running", "the first run")
    second = _run(api, h, tid, "note instead", multitask_strategy="rollback")
    api.client.get(f"/threads/{tid}/runs/{second['run_id']}/join", headers=h)
    gone = api.client.get(f"/threads/{tid}/runs/{first['run_id']}", headers=h)
    assert gone.status_code == 404
    said = _messages(api, h, tid)
    assert "note before" in said and "note instead" in said
    assert "sleep 5" not in said  # the rolled-back run's input is gone with it


def test_reject_is_the_default_and_bad_strategies_are_refused(api: Api) -> None:
    h = api.h(api.tenant("queue-reject"))
    tid = _thread(api, h)
    bad = api.client.post(
        f"/threads/{tid}/runs",
        headers=h,
        json={"assistant_id": "spine", "input": {"messages": ["x"]}, "multitask_strategy": "yolo"},
    )
    assert bad.status_code == 422 and bad.json()["param"] == "multitask_strategy"
    refused = api.client.post(
        f"/threads/{tid}/runs",
        headers=h,
        json={"assistant_id": "spine", "input": {"messages": ["x"]}, "interrupt_before": ["*"]},
    )
    assert refused.status_code == 422 and refused.json()["code"] == "unsupported_field"
    assert api.client.get(f"/threads/{tid}/runs", headers=h).json() == []


def test_after_seconds_waits_in_the_queue(api: Api) -> None:
    h = api.h(api.tenant("queue-later"))
    tid = _thread(api, h)
    run = _run(api, h, tid, "note later", after_seconds=1)
    assert run["status"] == "pending"
    assert api.client.get(f"/threads/{tid}", headers=h).json()["status"] == "idle"
    _until(lambda: _status(api, h, tid, run["run_id"]) == "success", "the delayed run")


def test_batch_starts_every_run_or_none(api: Api) -> None:
    h = api.h(api.tenant("queue-batch"))
    items = [{"assistant_id": "spine", "input": {"messages": [f"note {i}"]}} for i in range(3)]
    r = api.client.post("/runs/batch", headers=h, json=items)
    assert r.status_code == 200, r.text
    runs = r.json()
    assert len({run["thread_id"] for run in runs}) == 3
    for run in runs:
        _until(
            lambda run=run: _status(api, h, run["thread_id"], run["run_id"]) == "success", "batch"
        )
    before = len(api.client.post("/threads/search", headers=h, json={"limit": 100}).json())
    bad = api.client.post(
        "/runs/batch", headers=h, json=[*items, {"assistant_id": "spine", "input": {"x": 1}}]
    )
    assert bad.status_code == 422 and bad.json()["param"].startswith("3.")
    after = len(api.client.post("/threads/search", headers=h, json={"limit": 100}).json())
    assert after == before  # a bad item starts nothing


def test_cancel_many_and_delete(api: Api) -> None:
    h = api.h(api.tenant("queue-cancel"))
    tid = _thread(api, h)
    first = _run(api, h, tid, "sleep 5")
    queued = _run(api, h, tid, "note queued", multitask_strategy="enqueue")
    busy = api.client.delete(f"/threads/{tid}/runs/{first['run_id']}", headers=h)
    assert busy.status_code == 409 and busy.json()["code"] == "run_active"
    r = api.client.post("/runs/cancel", headers=h, json={"thread_id": tid, "status": "all"})
    assert r.status_code == 204
    _until(
        lambda: (
            {_status(api, h, tid, first["run_id"]), _status(api, h, tid, queued["run_id"])}
            == {"interrupted"}
        ),
        "both cancelled",
    )
    assert api.client.delete(f"/threads/{tid}/runs/{first['run_id']}", headers=h).status_code == 204
    assert api.client.get(f"/threads/{tid}/runs/{first['run_id']}", headers=h).status_code == 404
    empty = api.client.post("/runs/cancel", headers=h, json={})
    assert empty.status_code == 422
    other = api.h(api.tenant("queue-cancel-other"))
    r = api.client.post("/runs/cancel", headers=other, json={"thread_id": tid})
    assert r.status_code == 404  # another tenant's thread does not exist for it


def _sse(body: str) -> list[tuple[str | None, str, Any]]:
    events = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
    return events


def test_streams_are_numbered_and_resume_after_the_last_event_seen(api: Api) -> None:
    h = api.h(api.tenant("queue-resume"))
    tid = _thread(api, h)
    r = api.client.post(
        f"/threads/{tid}/runs/stream",
        headers=h,
        json={
            "assistant_id": "spine",
            "input": {"messages": ["note one"]},
            "stream_mode": ["values", "updates"],
        },
    )
    assert r.status_code == 200
    events = _sse(r.text)
    ids = [int(i) for i, _e, _d in events if i is not None]
    assert ids == list(range(1, len(events) + 1))
    assert events[0][1] == "metadata" and events[0][2]["attempt"] == 1
    location = r.headers["location"]
    assert location.endswith("/stream")
    replay = api.client.get(location, headers={**h, "Last-Event-ID": "2"})
    assert [e[0] for e in _sse(replay.text)] == [str(i) for i in ids[2:]]
    bad = api.client.get(location, headers={**h, "Last-Event-ID": "x"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_last_event_id"


def test_a_run_webhook_must_be_registered(api: Api) -> None:
    h = api.h(api.tenant("queue-hook"))
    tid = _thread(api, h)
    r = api.client.post(
        f"/threads/{tid}/runs",
        headers=h,
        json={
            "assistant_id": "spine",
            "input": {"messages": ["note x"]},
            "webhook": "http://127.0.0.1:9/nowhere",
        },
    )
    assert r.status_code == 422 and r.json()["code"] == "webhook_not_registered"
    assert api.client.get(f"/threads/{tid}/runs", headers=h).json() == []


def test_a_finished_run_queues_its_completion_webhook(api: Api, tmp_path: Path) -> None:
    h = api.h(api.tenant("queue-hooked"))
    url = "http://127.0.0.1:9/run-done"
    r = api.client.post(
        "/v1/webhooks/endpoints", headers=h, json={"url": url, "event_types": ["run.completed"]}
    )
    assert r.status_code == 201, r.text
    tid = _thread(api, h)
    r = api.client.post(
        f"/threads/{tid}/runs/wait",
        headers=h,
        json={"assistant_id": "spine", "input": {"messages": ["note hooked"]}, "webhook": url},
    )
    assert r.status_code == 200
    run_id = r.headers["content-location"].rsplit("/", 1)[1]
    deliveries = api.client.get(
        "/v1/webhooks/deliveries", headers=h, params={"event_type": "run.completed"}
    ).json()
    rows = deliveries["data"] if isinstance(deliveries, dict) else deliveries
    assert len(rows) == 1
    one = api.client.get(f"/v1/webhooks/deliveries/{rows[0]['id']}", headers=h).json()
    body = one.get("payload") or one.get("body")
    assert body["type"] == "run.completed"
    assert body["data"]["run_id"] == run_id and body["data"]["status"] == "success"
