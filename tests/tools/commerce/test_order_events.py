"""Order events: the webhook body, ``Merchant-Signature``, the outbox and its delivery.

Every event body is checked against the official webhook OpenAPI schema (``WebhookEvent``,
whose ``data`` is the checkout spec's ``Order``) and the JSON Schema bundle's ``Order``; the
spec's order examples replay through our models; deliveries go to a real HTTP receiver on
127.0.0.1 that fails on cue (500s, stalls past the timeout) and the outbox, the delivery log
and the receiver are checked after each pass.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select

from cockpit.db.migrate import upgrade
from cockpit.db.session import Database
from tests.tools.commerce.specs import acp_dir, assert_acp
from tools.commerce.events import (
    DeliveryLoop,
    DeliveryWorker,
    EventDelivery,
    OrderEvent,
    OrderEventReceiver,
    OrderEvents,
    ReceiverServer,
    RetryPolicy,
    SignatureError,
    event_body,
    sign,
    url_allowed,
    verify,
)
from tools.commerce.events.wire import Order, WebhookEvent
from tools.commerce.platforms import Platform

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TENANT = "evt-t"
SECRET = "whsec_test_secret"


# ----- the official webhook schema ------------------------------------------------------------
@cache
def _webhook_schema() -> tuple[dict[str, Any], Registry]:
    folder = acp_dir() / "openapi"
    registry: Registry = Registry()
    docs = {}
    for name in ("openapi.agentic_checkout_webhook.yaml", "openapi.agentic_checkout.yaml"):
        doc = yaml.safe_load((folder / name).read_text())
        docs[name] = doc
        uri = f"https://acp.invalid/openapi/{name}"
        registry = registry.with_resource(
            uri, Resource.from_contents(doc, default_specification=DRAFT202012)
        )
    root = {"$ref": "https://acp.invalid/openapi/openapi.agentic_checkout_webhook.yaml"}
    return root, registry


def webhook_validator(component: str) -> Draft202012Validator:
    root, registry = _webhook_schema()
    schema = {"$ref": root["$ref"] + f"#/components/schemas/{component}"}
    return Draft202012Validator(
        schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def assert_webhook_event(body: str | bytes | dict[str, Any]) -> dict[str, Any]:
    """``body`` is a valid ``WebhookEvent`` (OpenAPI) whose ``data`` is a valid ``Order``
    (JSON Schema bundle); returns it parsed."""
    event = json.loads(body) if isinstance(body, str | bytes) else body
    errors = sorted(webhook_validator("WebhookEvent").iter_errors(event), key=str)
    assert not errors, "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    assert_acp("Order", event["data"])
    return event


def assert_webhook_error(body: dict[str, Any]) -> None:
    errors = list(webhook_validator("Error").iter_errors(body))
    assert not errors, errors


def spec_orders() -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted((acp_dir() / "examples" / "orders").glob("*.json")):
        raw = json.loads(path.read_text())
        out[path.stem] = {k: v for k, v in raw.items() if not k.startswith(("$", "_"))}
    return out


# ----- the wire models against the spec's examples ----------------------------------------
def test_the_spec_order_examples_replay_through_our_order_model() -> None:
    examples = spec_orders()
    assert {"partial-fulfillment", "refunded-order", "shipped-order", "simple-order"} <= set(
        examples
    )
    for name, order in examples.items():
        assert_acp("Order", order)
        dumped = Order.model_validate(order).model_dump(mode="json", exclude_none=True)
        assert dumped == order, name
        if "status" in order:
            assert_webhook_event(event_body("order_update", order))
        else:  # the webhook's data requires a status: a minimal order cannot be sent as is
            with pytest.raises(ValidationError):
                event_body("order_update", order)


def test_the_webhook_specs_own_request_examples_parse_and_validate() -> None:
    doc = yaml.safe_load(
        (acp_dir() / "openapi" / "openapi.agentic_checkout_webhook.yaml").read_text()
    )
    examples = doc["paths"]["/agentic_checkout/webhooks/order_events"]["post"]["requestBody"][
        "content"
    ]["application/json"]["examples"]
    assert len(examples) == 3
    for example in examples.values():
        event = example["value"]
        assert_webhook_event(event)
        parsed = WebhookEvent.model_validate(event).model_dump(mode="json", exclude_none=True)
        assert parsed == event


@pytest.mark.parametrize(
    "mutate",
    [
        lambda o: {**o, "unexpected": 1},
        lambda o: {
            **o,
            "line_items": [{**o["line_items"][0], "quantity": {"ordered": 0, "current": 0}}],
        },
        lambda o: {**o, "adjustments": [{"id": "a", "type": "refund", "status": "completed"}]},
        lambda o: {**o, "totals": [{"type": "grand_total", "display_text": "x", "amount": 1}]},
    ],
)
def test_invalid_orders_are_refused_like_the_schema_refuses_them(mutate: Any) -> None:
    bad = mutate(spec_orders()["refunded-order"])
    assert list(webhook_validator("EventDataOrder").iter_errors({**bad, "type": "order"}))
    with pytest.raises(ValidationError):
        event_body("order_update", bad)


# ----- signatures -----------------------------------------------------------------------------
BODY = b'{"type":"order_update","data":{"type":"order"}}'
NOW = 1_790_000_000


@pytest.mark.parametrize(
    ("header", "body", "secret", "now", "reason"),
    [
        (None, BODY, SECRET, NOW, "missing"),
        ("", BODY, SECRET, NOW, "missing"),
        ("t=abc,v1=" + "0" * 64, BODY, SECRET, NOW, "malformed"),
        (f"t={NOW},v1=" + "0" * 63, BODY, SECRET, NOW, "malformed"),
        (f"v1={'0' * 64},t={NOW}", BODY, SECRET, NOW, "malformed"),
        (f"t={NOW},v1={'g' * 64}", BODY, SECRET, NOW, "malformed"),
        (sign(SECRET, BODY, timestamp=NOW) + ",v0=00", BODY, SECRET, NOW, "malformed"),
        (sign(SECRET, BODY, timestamp=NOW), BODY + b" ", SECRET, NOW, "mismatch"),
        (
            sign(SECRET, BODY, timestamp=NOW),
            BODY.replace(b"update", b"create"),
            SECRET,
            NOW,
            "mismatch",
        ),
        (sign("whsec_other", BODY, timestamp=NOW), BODY, SECRET, NOW, "mismatch"),
        (sign(SECRET, BODY, timestamp=NOW - 301), BODY, SECRET, NOW, "expired"),
        (sign(SECRET, BODY, timestamp=NOW + 301), BODY, SECRET, NOW, "expired"),
        (
            f"t={NOW - 1},v1={sign(SECRET, BODY, timestamp=NOW).split('v1=')[1]}",
            BODY,
            SECRET,
            NOW,
            "mismatch",
        ),
    ],
)
def test_signature_rejections(
    header: str | None, body: bytes, secret: str, now: int, reason: str
) -> None:
    with pytest.raises(SignatureError) as err:
        verify(secret, body, header, now=now)
    assert err.value.reason == reason
    assert err.value.status == 401 and err.value.code == "invalid_signature"
    assert_webhook_error(err.value.wire_body())


@pytest.mark.parametrize("skew", [-300, -1, 0, 1, 300])
def test_signature_accepted_inside_the_window(skew: int) -> None:
    header = sign(SECRET, BODY, timestamp=NOW + skew)
    assert header.startswith(f"t={NOW + skew},v1=") and len(header.split("v1=")[1]) == 64
    assert verify(SECRET, BODY, header, now=NOW) == NOW + skew
    # Uppercase hex is the same digest (the spec's pattern allows A-F).
    upper = header.split("v1=")[0] + "v1=" + header.split("v1=")[1].upper()
    assert verify(SECRET, BODY, upper, now=NOW) == NOW + skew


def test_the_reference_receiver_answers_in_the_spec_shapes() -> None:
    order = spec_orders()["shipped-order"]
    body = event_body("order_update", order).encode()
    receiver = OrderEventReceiver(SECRET, clock=lambda: datetime.fromtimestamp(NOW, UTC))
    ok = receiver.handle(
        {"Merchant-Signature": sign(SECRET, body, timestamp=NOW), "Request-Id": "evt_1"}, body
    )
    assert ok == (200, {"received": True, "request_id": "evt_1"})
    again = receiver.handle(
        {"merchant-signature": sign(SECRET, body, timestamp=NOW + 5), "request-id": "evt_1"}, body
    )
    assert again[0] == 200 and receiver.duplicates == 1 and len(receiver.events) == 1
    tampered = receiver.handle(
        {"Merchant-Signature": sign(SECRET, body, timestamp=NOW)}, body + b"\n"
    )
    assert tampered[0] == 401 and tampered[1]["code"] == "invalid_signature"
    assert_webhook_error(tampered[1])
    junk = b'{"type":"order_update","data":{"id":"x"}}'
    bad = receiver.handle({"Merchant-Signature": sign(SECRET, junk, timestamp=NOW)}, junk)
    assert bad[0] == 400
    assert_webhook_error(bad[1])
    assert receiver.rejected == ["mismatch", "bad_payload"]
    assert receiver.orders()["ord_shipped_456"]["status"] == "completed"


# ----- outbox and delivery --------------------------------------------------------------------
@pytest.fixture
def db(migrated_backend_url: str) -> Iterator[Database]:
    database = Database(migrated_backend_url)
    upgrade(database)
    yield database
    database.dispose()


def add_platform(
    db: Database,
    url: str | None,
    *,
    key_id: str = "key_1",
    disabled: bool = False,
    secret: str = SECRET,
) -> str:
    pid = f"plat_{key_id}"
    with db.tenant_session(TENANT) as s:
        s.add(
            Platform(
                id=pid,
                key_id=key_id,
                name="Agent",
                webhook_url=url,
                webhook_secret=secret,
                disabled=disabled,
                created_at=T0,
            )
        )
    return pid


def queue(
    db: Database, events: OrderEvents, *, key_id: str = "key_1", at: datetime = T0
) -> str | None:
    order = {**spec_orders()["partial-fulfillment"]}
    with db.tenant_session(TENANT) as s:
        row = events.enqueue_row(s, key_id=key_id, event_type="order_update", order=order, at=at)
        return None if row is None else row.id


def event_row(db: Database, event_id: str) -> tuple[OrderEvent, list[EventDelivery]]:
    with db.tenant_session(TENANT) as s:
        row = s.get(OrderEvent, event_id)
        assert row is not None
        log = list(
            s.scalars(
                select(EventDelivery)
                .where(EventDelivery.event_id == event_id)
                .order_by(EventDelivery.attempt)
            )
        )
        return row, log


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_no_platform_no_url_or_disabled_queues_nothing(db: Database) -> None:
    events = OrderEvents()
    assert queue(db, events, key_id="nobody") is None
    add_platform(db, None, key_id="no_url")
    assert queue(db, events, key_id="no_url") is None
    add_platform(db, "http://127.0.0.1:9", key_id="off", disabled=True)
    assert queue(db, events, key_id="off") is None
    with db.tenant_session(TENANT) as s:
        assert s.scalars(select(OrderEvent)).all() == []
    add_platform(db, "http://127.0.0.1:9", key_id="on")
    event_id = queue(db, events, key_id="on")
    row, log = event_row(db, event_id or "")
    assert (row.status, row.attempts, row.next_attempt_at, log) == ("pending", 0, T0, [])
    assert_webhook_event(row.body)


def test_retries_with_backoff_then_delivered_with_a_log_row_per_attempt(db: Database) -> None:
    clock = Clock(T0)
    receiver = OrderEventReceiver(SECRET, clock=clock)
    policy = RetryPolicy(max_attempts=5, base=timedelta(seconds=10), jitter=0.5)
    worker = DeliveryWorker(db, policy=policy, timeout_s=0.3, rng=random.Random(1))
    with ReceiverServer(receiver) as server:
        add_platform(db, server.url + "/")
        event_id = queue(db, OrderEvents()) or ""
        server.faults.extend([500, 0.8])  # an error status, then a stall past the timeout

        assert worker.run_due(at=T0).retrying == 1
        row, _ = event_row(db, event_id)
        assert row.status == "failed" and row.last_status_code == 500
        first_wait = row.next_attempt_at - T0  # type: ignore[operator]
        assert timedelta(seconds=5) <= first_wait <= timedelta(seconds=10)

        clock.at = T0 + first_wait - timedelta(seconds=1)
        assert worker.run_due(at=clock.at).attempted == 0  # not due yet

        clock.at = T0 + first_wait
        assert worker.run_due(at=clock.at).retrying == 1
        row, _ = event_row(db, event_id)
        assert row.last_error == "timeout" and row.last_status_code is None
        second_wait = row.next_attempt_at - clock.at  # type: ignore[operator]
        assert timedelta(seconds=10) <= second_wait <= timedelta(seconds=20)

        clock.at += second_wait
        assert worker.run_due(at=clock.at).delivered == 1
        worker.close()
    row, log = event_row(db, event_id)
    assert (row.status, row.attempts, row.last_status_code, row.next_attempt_at) == (
        "delivered",
        3,
        200,
        None,
    )
    assert row.delivered_at == clock.at
    assert [(d.attempt, d.status_code, d.error, d.outcome) for d in log] == [
        (1, 500, "HTTP 500", "retry"),
        (2, None, "timeout", "retry"),
        (3, 200, None, "delivered"),
    ]
    assert all(d.url == server.url + "/agentic_checkout/webhooks/order_events" for d in log)
    assert len(receiver.events) == 1 and receiver.events[0].request_id == event_id
    assert receiver.events[0].body == row.body.encode()
    assert_webhook_event(receiver.events[0].body)
    assert worker.run_due(at=clock.at + timedelta(days=1)).attempted == 0


def test_dead_after_the_last_attempt(db: Database) -> None:
    clock = Clock(T0)
    receiver = OrderEventReceiver(SECRET, clock=clock)
    worker = DeliveryWorker(
        db, policy=RetryPolicy(max_attempts=3, base=timedelta(seconds=1)), rng=random.Random(2)
    )
    with ReceiverServer(receiver) as server:
        add_platform(db, server.url)
        event_id = queue(db, OrderEvents()) or ""
        server.faults.extend([503, 502, 500, 500])
        outcomes = []
        for _ in range(3):
            report = worker.run_due(at=clock.at)
            outcomes.append((report.retrying, report.dead))
            clock.at += timedelta(minutes=5)
        assert worker.run_due(at=clock.at + timedelta(days=1)).attempted == 0
        worker.close()
        assert server.requests == 3
    assert outcomes == [(1, 0), (1, 0), (0, 1)]
    row, log = event_row(db, event_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("dead", 3, None)
    assert [d.status_code for d in log] == [503, 502, 500]
    assert [d.outcome for d in log] == ["retry", "retry", "dead"]
    assert receiver.events == []


def test_a_wrong_secret_is_rejected_and_retried_until_rotated(db: Database) -> None:
    clock = Clock(T0)
    receiver = OrderEventReceiver("whsec_platform_has_another", clock=clock)
    worker = DeliveryWorker(db, policy=RetryPolicy(base=timedelta(seconds=1), jitter=0))
    with ReceiverServer(receiver) as server:
        add_platform(db, server.url)
        event_id = queue(db, OrderEvents()) or ""
        assert worker.run_due(at=clock.at).retrying == 1
        assert receiver.rejected == ["mismatch"]
        receiver.secret = SECRET
        clock.at += timedelta(seconds=1)
        assert worker.run_due(at=clock.at).delivered == 1
        worker.close()
    row, log = event_row(db, event_id)
    assert [d.status_code for d in log] == [401, 200] and row.status == "delivered"


def test_only_loopback_or_configured_hosts_are_called(db: Database) -> None:
    assert url_allowed("http://127.0.0.1:8000/x") and url_allowed("http://localhost/x")
    assert url_allowed("http://[::1]:9/x") and url_allowed("https://127.8.9.10/")
    assert not url_allowed("https://agent.example.com/x")
    assert url_allowed("https://agent.example.com/x", {"agent.example.com"})
    assert not url_allowed("ftp://127.0.0.1/x") and not url_allowed("http:///x")
    add_platform(db, "https://agent.example.com")
    event_id = queue(db, OrderEvents()) or ""
    worker = DeliveryWorker(db)
    assert worker.run_due(at=T0).dead == 1
    row, log = event_row(db, event_id)
    assert row.status == "dead" and row.last_error == "url_not_allowed"
    assert [(d.status_code, d.outcome) for d in log] == [(None, "dead")]


def test_two_workers_racing_deliver_each_event_once(db: Database) -> None:
    clock = Clock(T0)
    receiver = OrderEventReceiver(SECRET, clock=clock)
    with ReceiverServer(receiver) as server:
        add_platform(db, server.url)
        events = OrderEvents()
        ids = {queue(db, events) for _ in range(6)}
        workers = [DeliveryWorker(db, batch=3) for _ in range(2)]
        barrier = threading.Barrier(2)

        def run(worker: DeliveryWorker) -> None:
            barrier.wait()
            for _ in range(3):
                worker.run_due(at=T0)

        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        for w in workers:
            w.close()
    assert {e.request_id for e in receiver.events} == ids
    assert len(receiver.events) == 6 and receiver.duplicates == 0 and server.requests == 6
    with db.tenant_session(TENANT) as s:
        assert {r.status for r in s.scalars(select(OrderEvent))} == {"delivered"}
        assert len(s.scalars(select(EventDelivery)).all()) == 6


def test_a_redelivered_event_is_acknowledged_but_kept_once(db: Database) -> None:
    receiver = OrderEventReceiver(SECRET, clock=lambda: T0)
    worker = DeliveryWorker(db)
    with ReceiverServer(receiver) as server:
        add_platform(db, server.url)
        event_id = queue(db, OrderEvents()) or ""
        worker.run_due(at=T0)
        with db.tenant_session(TENANT) as s:  # as if the acknowledgement had been lost
            row = s.get(OrderEvent, event_id)
            assert row is not None
            row.status, row.next_attempt_at = "failed", T0
        assert worker.run_due(at=T0).delivered == 1
        worker.close()
    assert len(receiver.events) == 1 and receiver.duplicates == 1


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    policy = RetryPolicy(base=timedelta(seconds=30), cap=timedelta(minutes=10), jitter=0.5)
    rng = random.Random(3)
    for failures in range(1, 12):
        full = min(timedelta(minutes=10), timedelta(seconds=30) * 2 ** (failures - 1))
        for _ in range(20):
            wait = policy.delay(failures, rng)
            assert full / 2 <= wait <= full
    flat = RetryPolicy(base=timedelta(seconds=4), jitter=0)
    assert [flat.delay(n, rng).total_seconds() for n in (1, 2, 3, 4)] == [4, 8, 16, 32]


def test_the_loop_delivers_after_commit_and_stops_by_itself(db: Database) -> None:
    receiver = OrderEventReceiver(SECRET)
    worker = DeliveryWorker(db, policy=RetryPolicy(base=timedelta(milliseconds=200), jitter=0))
    from cockpit.clock import utcnow

    loop = DeliveryLoop(worker, clock=utcnow, interval_s=0.2)
    events = OrderEvents(on_commit=loop.kick)
    with ReceiverServer(receiver) as server:
        add_platform(db, server.url)
        server.faults.append(500)
        assert not loop.running
        with db.tenant_session(TENANT) as s:
            events.enqueue(
                s,
                key_id="key_1",
                event_type="order_create",
                order={**spec_orders()["shipped-order"], "status": "created"},
                at=utcnow(),
            )
        got = receiver.wait_for(1, timeout_s=10)
        assert [e.type for e in got] == ["order_create"]
        deadline = threading.Event()
        for _ in range(50):
            if not loop.running:
                break
            deadline.wait(0.1)
        assert not loop.running  # nothing owed any more: the thread ended
        assert server.requests == 2  # the 500, then the retry
        loop.stop()


def test_an_order_that_is_not_valid_acp_is_logged_not_queued(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    add_platform(db, "http://127.0.0.1:9")
    bad = {**spec_orders()["refunded-order"], "refunds": []}  # the removed legacy field
    with db.tenant_session(TENANT) as s:
        row = OrderEvents().enqueue_row(
            s, key_id="key_1", event_type="order_update", order=bad, at=T0
        )
        assert row is None
        assert s.scalars(select(OrderEvent)).all() == []
    assert "not a valid ACP Order" in caplog.text
