"""The dispatcher: sends due deliveries, signed, and schedules retries with backoff.

Every API worker runs one. Each poll claims due deliveries across tenants in a system
session — ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and on every backend an UPDATE that
only succeeds while the row is still due — and a claim moves the row's ``next_attempt_at``
one lease ahead, so a delivery is sent by exactly one worker; if that worker dies mid-send,
the delivery is due again when the lease ends. Everything after the claim (building,
recording the attempt) runs in the delivery's tenant session.

A 2xx answer is success. Anything else (another status, a redirect, a timeout, a refused
destination) is a failed attempt, retried after ``SCHEDULE_S[step]`` seconds plus jitter;
after the last step the delivery is ``dead``. Every attempt is appended to its log.
Deliveries are not ordered: a receiver orders by the envelope's ``timestamp``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

import httpx
from sqlalchemy import Table, select, update

from cockpit import __version__
from cockpit.db.base import iso, utcnow
from cockpit.db.session import Database
from cockpit.errors import ValidationFailed
from cockpit.tls import client_context
from cockpit.webhooks.destinations import DestinationPolicy
from cockpit.webhooks.endpoints import active_secrets
from cockpit.webhooks.models import WebhookDelivery, WebhookEndpoint
from cockpit.webhooks.queue import encode_body
from cockpit.webhooks.signing import signed_headers

log = logging.getLogger(__name__)

SCHEDULE_S: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
"""Wait before each retry: after the first failed attempt 5 s, … after the ninth 12 h; a
tenth failure makes the delivery ``dead`` (about a day of trying in all)."""
JITTER = 0.2
"""Each wait is stretched by up to this fraction at random, so retries of one outage spread."""
TIMEOUT_S = 10.0
LEASE_S = 60.0
"""How long a claim holds a delivery; longer than one attempt can take."""
POLL_S = 0.5
BATCH = 20
MAX_LOG = 50
"""Attempts kept per delivery (the newest)."""
DUE = ("pending", "failed")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One attempt, ready to send."""

    tenant_id: str
    delivery_id: str
    token: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Outcome:
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def claim_due(
    db: Database, *, now: datetime, limit: int, token: str, lease_s: float = LEASE_S
) -> list[tuple[str, str]]:
    """Claim up to ``limit`` due deliveries for ``token``; ``[(tenant_id, delivery_id)]``.

    Runs in a system session on the table itself (a cross-tenant system job): only ids and
    tenants are read here; the tenant session does the rest.
    """
    table = cast(Table, WebhookDelivery.__table__)
    due = table.c.status.in_(DUE) & (table.c.next_attempt_at <= now)
    query = (
        select(table.c.id, table.c.tenant_id)
        .where(due)
        .order_by(table.c.next_attempt_at)
        .limit(limit)
    )
    if db.dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed: list[tuple[str, str]] = []
    with db.system_session() as s:
        for delivery_id, tenant_id in s.execute(query).all():
            won = s.execute(
                update(table)
                .where(table.c.id == delivery_id, due)
                .values(claim_token=token, next_attempt_at=now + timedelta(seconds=lease_s))
            )
            if won.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append((str(tenant_id), str(delivery_id)))
    return claimed


def _end(row: WebhookDelivery, status: str, error: str, now: datetime) -> None:
    row.status, row.last_error = status, error
    row.next_attempt_at, row.claim_token, row.updated_at = None, None, now


def prepare(db: Database, *, tenant_id: str, delivery_id: str, token: str) -> Outgoing | None:
    """The signed request for a claimed delivery, or None (claim lost, endpoint gone)."""
    now = utcnow()
    with db.tenant_session(tenant_id) as s:
        row = s.get(WebhookDelivery, delivery_id)
        if row is None or row.claim_token != token:
            return None
        endpoint = s.get(WebhookEndpoint, row.endpoint_id)
        if endpoint is None or not endpoint.enabled:
            _end(row, "dead", "endpoint deleted" if endpoint is None else "endpoint disabled", now)
            return None
        signing = active_secrets(endpoint, now=now)
        if not signing:  # not possible through the API; never send unsigned
            _end(row, "dead", "endpoint has no signing secret", now)
            return None
        body = encode_body(row.payload)
        headers = signed_headers(
            signing,
            msg_id=row.id,
            timestamp=int(now.timestamp()),
            body=body,
        )
        headers["content-type"] = "application/json"
        headers["user-agent"] = f"Cockpit-Webhooks/{__version__}"
        return Outgoing(tenant_id, delivery_id, token, endpoint.url, headers, body)


def record(
    db: Database,
    sent: Outgoing,
    *,
    outcome: Outcome,
    schedule: Sequence[float] = SCHEDULE_S,
    jitter: Callable[[], float] = random.random,
) -> str | None:
    """Append the attempt to the log and move the delivery on; returns its new status.

    If the delivery was replayed meanwhile (the claim is gone) the attempt is logged and the
    replay's schedule stands.
    """
    with db.tenant_session(sent.tenant_id) as s:
        row = s.get(WebhookDelivery, sent.delivery_id)
        if row is None:
            return None
        entry = {
            "at": iso(outcome.at),
            "status_code": outcome.status_code,
            "error": outcome.error,
            "duration_ms": outcome.duration_ms,
        }
        row.attempt_log = [*row.attempt_log, entry][-MAX_LOG:]
        row.attempts += 1
        row.last_status_code, row.last_error = outcome.status_code, outcome.error
        row.updated_at = outcome.at
        if row.claim_token != sent.token:
            return row.status
        if outcome.ok:
            _end(row, "succeeded", "", outcome.at)
            row.last_error = None
        elif row.retry_step >= len(schedule):
            _end(row, "dead", outcome.error or "failed", outcome.at)
        else:
            wait = schedule[row.retry_step] * (1 + JITTER * jitter())
            row.status, row.claim_token = "failed", None
            row.next_attempt_at = outcome.at + timedelta(seconds=wait)
            row.retry_step += 1
        return row.status


async def post(
    client: httpx.AsyncClient, sent: Outgoing, *, timeout_s: float = TIMEOUT_S
) -> Outcome:
    """POST once; never raises for the receiver's faults.

    Only the status line counts: the response body is never read (a receiver cannot make
    the worker buffer it), and the whole exchange is bounded by ``timeout_s`` (a receiver
    dripping its headers cannot hold the worker either).
    """
    started = time.monotonic()
    at = utcnow()
    code: int | None = None
    error: str | None = None
    try:
        async with asyncio.timeout(timeout_s):
            request = client.build_request(
                "POST", sent.url, content=sent.body, headers=sent.headers
            )
            response = await client.send(request, stream=True)
            code = response.status_code
            await response.aclose()
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except (httpx.TimeoutException, TimeoutError):
        error = "timed out"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    return Outcome(at, code, error, int((time.monotonic() - started) * 1000))


@dataclass
class Dispatcher:
    """Polls for due deliveries and sends them; one per API worker."""

    db: Database
    policy: DestinationPolicy = field(default_factory=DestinationPolicy)
    poll_s: float = POLL_S
    schedule: Sequence[float] = SCHEDULE_S
    timeout_s: float = TIMEOUT_S
    batch: int = BATCH
    transport: httpx.AsyncBaseTransport | None = None
    """Tests may route requests in memory (``httpx.MockTransport``)."""
    jitter: Callable[[], float] = random.random
    _task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)
    _wake: asyncio.Event | None = field(default=None, init=False, repr=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False, repr=False)

    async def dispatch_due(self, *, now: datetime | None = None) -> int:
        """Claim and send one batch of due deliveries; returns how many were attempted."""
        token = "clm_" + secrets.token_hex(12)
        claimed = await asyncio.to_thread(
            claim_due, self.db, now=now or utcnow(), limit=self.batch, token=token
        )
        if not claimed:
            return 0
        async with httpx.AsyncClient(
            timeout=self.timeout_s,
            follow_redirects=False,
            transport=self.transport,
            verify=client_context(),
        ) as client:
            results = await asyncio.gather(
                *(self._one(client, t, d, token) for t, d in claimed), return_exceptions=True
            )
        for (tenant, delivery), result in zip(claimed, results, strict=True):
            if isinstance(result, BaseException):
                # Its lease makes it due again; one bad delivery must not stop the others.
                log.error("webhook %s of tenant %s failed: %r", delivery, tenant, result)
        return len(claimed)

    async def _one(self, client: httpx.AsyncClient, tenant: str, delivery: str, token: str) -> Any:
        sent = await asyncio.to_thread(
            partial(prepare, self.db, tenant_id=tenant, delivery_id=delivery, token=token)
        )
        if sent is None:
            return None
        try:
            await asyncio.to_thread(self.policy.check, sent.url)
        except ValidationFailed as exc:
            outcome = Outcome(utcnow(), None, exc.message, 0)
        else:
            outcome = await post(client, sent, timeout_s=self.timeout_s)
        status = await asyncio.to_thread(
            record, self.db, sent, outcome=outcome, schedule=self.schedule, jitter=self.jitter
        )
        log.info(
            "webhook %s to endpoint of tenant %s: %s (%s)",
            delivery,
            tenant,
            status,
            outcome.status_code or outcome.error,
        )
        return status

    async def run(self) -> None:
        """Poll until :meth:`stop`; a failing poll is logged and retried on the next tick."""
        assert self._wake is not None
        while True:
            try:
                sent = await self.dispatch_due()
            except Exception:
                log.exception("webhook dispatch failed; retrying")
                sent = 0
            if sent >= self.batch:
                continue  # more may be due right away
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)
            self._wake.clear()

    def start(self) -> None:
        """Run in the background on the current event loop."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self.run(), name="webhook-dispatcher")

    def wake(self) -> None:
        """Poll now (something was just queued); safe from any thread."""
        if self._loop is not None and self._wake is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        """Stop polling; an attempt in flight is abandoned (its lease makes it due again)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


__all__ = [
    "LEASE_S",
    "SCHEDULE_S",
    "TIMEOUT_S",
    "Dispatcher",
    "Outcome",
    "Outgoing",
    "claim_due",
    "post",
    "prepare",
    "record",
]
