"""End to end: the running app's own dispatcher delivers to a real receiver on loopback; the
receiver verifies each request with the procedure docs/webhooks.md documents."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from cockpit.api.routers.webhooks import DISPATCHER_KEY
from cockpit.clock import utcnow
from cockpit.webhooks.dispatcher import Dispatcher
from tests.cockpit.webhooks.kit import Receiver, documented_verifier, serving_receiver
from tests.support.apptest import Api, running_app


@pytest.fixture
def app(tmp_path: Any, receiver: Receiver) -> Iterator[Api]:
    with running_app(tmp_path, None, webhook_allowed_hosts=["127.0.0.1"]) as api:
        yield api


def delivery(api: Api, key: str, delivery_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        r = api.client.get(f"/v1/webhooks/deliveries/{delivery_id}", headers=api.h(key))
        body: dict[str, Any] = r.json()
        if body["status"] == status or time.monotonic() > deadline:
            assert body["status"] == status, body
            return body
        time.sleep(0.05)


def test_test_event_replay_and_rotation(app: Api, receiver: Receiver) -> None:
    verify = documented_verifier()
    key = app.tenant("e2e")
    r = app.client.post(
        "/v1/webhooks/endpoints",
        json={"url": receiver.url + "/cockpit", "event_types": ["monitor.finding"]},
        headers=app.h(key),
    )
    assert r.status_code == 201, r.text
    endpoint = r.json()
    secret = endpoint["secret"]

    sent = app.client.post(f"/v1/webhooks/endpoints/{endpoint['id']}/test", headers=app.h(key))
    assert sent.status_code == 202
    msg = sent.json()["id"]
    (first,) = receiver.wait_for(1)
    now = int(utcnow().timestamp())
    assert verify(secret, first.headers, first.body, now=now)
    assert not verify(secret, first.headers, first.body + b"x", now=now)
    assert first.headers["webhook-id"] == msg and first.path == "/cockpit"
    envelope = json.loads(first.body)
    assert envelope["type"] == "webhook.test"
    assert envelope["data"]["endpoint_id"] == endpoint["id"]
    done = delivery(app, key, msg, "succeeded")
    assert [a["status_code"] for a in done["attempt_log"]] == [200]

    replay = app.client.post(f"/v1/webhooks/deliveries/{msg}/replay", headers=app.h(key))
    assert replay.status_code == 202 and replay.json()["id"] == msg
    second = receiver.wait_for(2)[1]
    assert second.headers["webhook-id"] == msg and second.body == first.body
    assert verify(secret, second.headers, second.body, now=int(utcnow().timestamp()))
    delivery(app, key, msg, "succeeded")
    logged = app.client.get(f"/v1/webhooks/deliveries/{msg}", headers=app.h(key)).json()
    assert logged["attempts"] == 2 and len(logged["attempt_log"]) == 2

    rotated = app.client.post(
        f"/v1/webhooks/endpoints/{endpoint['id']}/rotate-secret", json={}, headers=app.h(key)
    ).json()
    again = app.client.post(f"/v1/webhooks/endpoints/{endpoint['id']}/test", headers=app.h(key))
    third = receiver.wait_for(3)[2]
    assert third.headers["webhook-id"] == again.json()["id"] != msg
    assert len(third.headers["webhook-signature"].split(" ")) == 2
    now = int(utcnow().timestamp())
    assert verify(rotated["secret"], third.headers, third.body, now=now)
    assert verify(secret, third.headers, third.body, now=now)  # still in its grace period


def test_a_receiver_failing_twice_gets_three_attempts(app: Api, receiver: Receiver) -> None:
    hooks = app.client.app.state.services.extras[DISPATCHER_KEY]  # type: ignore[attr-defined]
    assert isinstance(hooks, Dispatcher)
    hooks.schedule = (0.0, 0.0, 0.0)  # retry at once: the schedule is the app's, injectable
    receiver.script = [500, 502]
    key = app.tenant("e2e-retry")
    endpoint = app.client.post(
        "/v1/webhooks/endpoints", json={"url": receiver.url + "/flaky"}, headers=app.h(key)
    ).json()
    sent = app.client.post(f"/v1/webhooks/endpoints/{endpoint['id']}/test", headers=app.h(key))
    done = delivery(app, key, sent.json()["id"], "succeeded")
    assert [a["status_code"] for a in done["attempt_log"]] == [500, 502, 200]
    assert done["attempts"] == 3 and done["last_error"] is None
    got = receiver.wait_for(3)
    assert len({r.headers["webhook-id"] for r in got}) == 1


def test_the_app_refuses_loopback_unless_configured(tmp_path: Any) -> None:
    with serving_receiver() as receiver, running_app(tmp_path, None) as api:
        key = api.tenant("e2e-strict")
        r = api.client.post(
            "/v1/webhooks/endpoints", json={"url": receiver.url + "/x"}, headers=api.h(key)
        )
        assert r.status_code == 422
        assert (r.json()["code"], r.json()["param"]) == ("webhook_destination_refused", "url")
