"""The dispatcher against a real receiver on loopback: signing, retries, dead letters, replay,
leases, and claims shared by concurrent workers (each delivery sent once)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from cockpit.clock import utcnow
from cockpit.db.session import Database
from cockpit.tenancy.principal import Principal, Role
from cockpit.webhooks import WebhookDelivery, enqueue
from cockpit.webhooks.deliveries import DeliveryLog
from cockpit.webhooks.destinations import DestinationPolicy
from cockpit.webhooks.dispatcher import Dispatcher, claim_due
from cockpit.webhooks.endpoints import EndpointCreate, EndpointPatch, EndpointService
from tests.cockpit.webhooks.kit import SQLITE_ONLY, Receiver, documented_verifier

LOOPBACK = DestinationPolicy(allowed_hosts=("127.0.0.1",))
ADMIN = Principal("t-a", Role.ADMIN, "key_admin")


def register(db: Database, url: str, **fields: object) -> dict[str, object]:
    body = EndpointCreate.model_validate({"url": url, **fields})
    return EndpointService(db, LOOPBACK).create(ADMIN, body)


def queue(db: Database, event: str = "monitor.finding", data: object = None) -> list[str]:
    with db.tenant_session("t-a") as s:
        return enqueue(s, "t-a", event, data if data is not None else {"n": 1})


def dispatcher(db: Database, *schedule: float) -> Dispatcher:
    return Dispatcher(db, policy=LOOPBACK, schedule=schedule or (5.0,), jitter=lambda: 0.0)


def row(db: Database, delivery_id: str) -> WebhookDelivery:
    with db.tenant_session("t-a") as s:
        found = s.get(WebhookDelivery, delivery_id)
        assert found is not None
        return found


@SQLITE_ONLY
def test_a_delivery_arrives_signed_and_verifiable(db: Database, receiver: Receiver) -> None:
    endpoint = register(db, receiver.url + "/hook")
    (msg,) = queue(db, data={"finding": "success rate dropped"})
    assert asyncio.run(dispatcher(db).dispatch_due()) == 1
    (got,) = receiver.wait_for(1)
    assert got.path == "/hook"
    assert got.headers["webhook-id"] == msg
    assert got.headers["content-type"] == "application/json"
    now = int(utcnow().timestamp())
    assert documented_verifier()(str(endpoint["secret"]), got.headers, got.body, now=now)
    body = json.loads(got.body)
    assert body["type"] == "monitor.finding"
    assert body["data"] == {"finding": "success rate dropped"}
    done = row(db, msg)
    assert (done.status, done.attempts, done.last_status_code) == ("succeeded", 1, 200)
    assert done.next_attempt_at is None and done.claim_token is None


@SQLITE_ONLY
def test_two_failures_then_success_makes_three_logged_attempts(
    db: Database, receiver: Receiver
) -> None:
    register(db, receiver.url + "/hook")
    receiver.script = [500, 503]
    (msg,) = queue(db)
    hooks = dispatcher(db, 5.0, 30.0, 120.0)
    assert asyncio.run(hooks.dispatch_due()) == 1
    first = row(db, msg)
    assert (first.status, first.retry_step, first.last_error) == ("failed", 1, "HTTP 500")
    assert first.next_attempt_at is not None
    assert asyncio.run(hooks.dispatch_due()) == 0  # the retry is 5 s away
    assert asyncio.run(hooks.dispatch_due(now=utcnow() + timedelta(seconds=6))) == 1
    assert row(db, msg).status == "failed"
    assert asyncio.run(hooks.dispatch_due(now=utcnow() + timedelta(seconds=40))) == 1
    done = row(db, msg)
    assert done.status == "succeeded" and done.attempts == 3
    assert [a["status_code"] for a in done.attempt_log] == [500, 503, 200]
    assert [a["error"] for a in done.attempt_log] == ["HTTP 500", "HTTP 503", None]
    assert all(isinstance(a["duration_ms"], int) and a["at"] for a in done.attempt_log)
    ids = {r.headers["webhook-id"] for r in receiver.wait_for(3)}
    assert ids == {msg}  # a retry keeps the webhook-id
    # The backoff grows along the schedule: the second wait is 30 s, not 5 s.
    gap = [a["at"] for a in done.attempt_log]
    assert gap[0] < gap[1] < gap[2]


@SQLITE_ONLY
def test_exhausted_retries_end_dead_and_replay_sends_the_same_id_again(
    db: Database, receiver: Receiver
) -> None:
    register(db, receiver.url + "/hook")
    receiver.script = [500, 500]
    (msg,) = queue(db)
    hooks = dispatcher(db, 0.0)
    asyncio.run(hooks.dispatch_due())
    asyncio.run(hooks.dispatch_due(now=utcnow() + timedelta(seconds=1)))
    dead = row(db, msg)
    assert (dead.status, dead.attempts, dead.next_attempt_at) == ("dead", 2, None)
    assert asyncio.run(hooks.dispatch_due(now=utcnow() + timedelta(days=2))) == 0
    replayed = DeliveryLog(db).replay(ADMIN, msg)
    assert replayed["status"] == "pending" and replayed["attempts"] == 2
    assert asyncio.run(hooks.dispatch_due()) == 1
    done = row(db, msg)
    assert (done.status, done.attempts, done.retry_step) == ("succeeded", 3, 0)
    got = receiver.wait_for(3)
    assert [r.headers["webhook-id"] for r in got] == [msg, msg, msg]
    assert got[0].body == got[2].body  # the same body, freshly signed


@SQLITE_ONLY
def test_redirects_are_not_followed(db: Database, receiver: Receiver) -> None:
    register(db, receiver.url + "/hook")
    receiver.script = [302]
    (msg,) = queue(db)
    asyncio.run(dispatcher(db).dispatch_due())
    assert row(db, msg).status == "failed" and row(db, msg).last_status_code == 302
    assert len(receiver.wait_for(1)) == 1


@SQLITE_ONLY
def test_an_unreachable_receiver_is_a_failed_attempt(db: Database, receiver: Receiver) -> None:
    register(db, "http://127.0.0.1:9/closed")  # discard port: nothing listens
    (msg,) = queue(db)
    asyncio.run(dispatcher(db).dispatch_due())
    failed = row(db, msg)
    assert failed.status == "failed" and failed.last_status_code is None
    assert failed.last_error and "Connect" in failed.last_error


@SQLITE_ONLY
def test_a_destination_refused_at_send_time_is_not_called(db: Database, receiver: Receiver) -> None:
    register(db, receiver.url + "/hook")
    (msg,) = queue(db)
    strict = Dispatcher(db, policy=DestinationPolicy(), jitter=lambda: 0.0)  # loopback refused
    asyncio.run(strict.dispatch_due())
    failed = row(db, msg)
    assert failed.status == "failed" and "private, loopback" in (failed.last_error or "")
    assert receiver.received == []


@SQLITE_ONLY
def test_disabled_and_deleted_endpoints_end_their_deliveries(
    db: Database, receiver: Receiver
) -> None:
    endpoint = register(db, receiver.url + "/hook")
    (first,) = queue(db)
    service = EndpointService(db, LOOPBACK)
    service.update(ADMIN, str(endpoint["id"]), EndpointPatch(enabled=False))
    asyncio.run(dispatcher(db).dispatch_due())
    assert (row(db, first).status, row(db, first).last_error) == ("dead", "endpoint disabled")
    assert queue(db) == []  # a disabled endpoint gets nothing new
    service.update(ADMIN, str(endpoint["id"]), EndpointPatch(enabled=True))
    (second,) = queue(db)
    service.delete(ADMIN, str(endpoint["id"]))
    assert (row(db, second).status, row(db, second).last_error) == ("dead", "endpoint deleted")
    assert receiver.received == []


def test_a_claim_holds_for_its_lease_then_lapses(db: Database, receiver: Receiver) -> None:
    register(db, receiver.url + "/hook")
    (msg,) = queue(db)
    now = utcnow()
    assert claim_due(db, now=now, limit=10, token="clm_dead_worker") == [("t-a", msg)]
    assert claim_due(db, now=now + timedelta(seconds=59), limit=10, token="clm_b") == []
    later = now + timedelta(seconds=61)  # the first worker never came back
    assert claim_due(db, now=later, limit=10, token="clm_b") == [("t-a", msg)]
    assert row(db, msg).claim_token == "clm_b"


def test_concurrent_claims_never_share_a_delivery(db: Database, receiver: Receiver) -> None:
    register(db, receiver.url + "/hook")
    for _ in range(40):
        queue(db)
    now = utcnow()
    claimed: list[list[tuple[str, str]]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def worker(n: int) -> None:
        own = Database(db.url)  # a worker of its own: its own engine and connections
        start.wait()
        while batch := claim_due(own, now=now, limit=3, token=f"clm_{n}"):
            claimed[n].extend(batch)
        own.dispose()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    every = [d for batch in claimed for _, d in batch]
    assert len(every) == 40 and len(set(every)) == 40
    with db.tenant_session("t-a") as s:
        tokens = Counter(s.scalars(select(WebhookDelivery.claim_token)))
    assert sum(tokens.values()) == 40 and None not in tokens


def test_two_dispatchers_send_each_delivery_once(db: Database, receiver: Receiver) -> None:
    register(db, receiver.url + "/hook")
    ids = {i for _ in range(30) for i in queue(db)}
    workers = [
        Dispatcher(Database(db.url), policy=LOOPBACK, batch=4, jitter=lambda: 0.0) for _ in range(2)
    ]

    async def both() -> None:
        while sum(await asyncio.gather(*(w.dispatch_due() for w in workers))):
            pass

    asyncio.run(both())
    got = receiver.wait_for(30)
    sent = Counter(r.headers["webhook-id"] for r in got)
    assert set(sent) == ids and set(sent.values()) == {1}
    with db.tenant_session("t-a") as s:
        statuses = Counter(s.scalars(select(WebhookDelivery.status)))
    assert statuses == Counter({"succeeded": 30})
    for w in workers:
        w.db.dispose()


@SQLITE_ONLY
def test_an_endpoint_without_a_live_secret_is_never_sent_unsigned(
    db: Database, receiver: Receiver
) -> None:
    from cockpit.webhooks import WebhookEndpoint

    endpoint = register(db, receiver.url + "/hook")
    with db.tenant_session("t-a") as s:
        found = s.get(WebhookEndpoint, str(endpoint["id"]))
        assert found is not None
        found.secrets = [{**found.secrets[0], "expires_at": "2000-01-01T00:00:00+00:00"}]
    (msg,) = queue(db)
    asyncio.run(dispatcher(db).dispatch_due())
    dead = row(db, msg)
    assert (dead.status, dead.last_error) == ("dead", "endpoint has no signing secret")
    assert receiver.received == []


@SQLITE_ONLY
def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(
    db: Database, receiver: Receiver
) -> None:
    register(db, receiver.url + "/slow")
    receiver.delay_s = 2.0
    (msg,) = queue(db)
    hooks = Dispatcher(db, policy=LOOPBACK, timeout_s=0.3, jitter=lambda: 0.0)
    asyncio.run(hooks.dispatch_due())
    failed = row(db, msg)
    assert (failed.status, failed.last_error, failed.last_status_code) == (
        "failed",
        "timed out",
        None,
    )
