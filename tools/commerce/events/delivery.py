"""Deliver queued order events to agent platforms: sign, POST, retry with backoff, log.

``DeliveryWorker.run_due(at=...)`` makes one bounded pass: for every tenant with due events
it *claims* them in a short transaction (a lease: ``next_attempt_at`` moves past the send, and
on PostgreSQL rows other workers hold are skipped), POSTs each outside any transaction (a slow
platform never holds database locks), then records the outcome and one
:class:`~tools.commerce.events.models.EventDelivery` row per attempt. A 2xx answer delivers;
anything else (an error status, a timeout, a refused connection) schedules a retry after an
exponential backoff with jitter, until the policy's last attempt leaves the event ``dead``.
Delivery is at least once; receivers drop duplicates by ``Request-Id`` (the event id).

Only loopback URLs and hosts the operator configured are ever called: Cockpit makes no other
network calls at run time. :class:`DeliveryLoop` runs passes on a daemon thread while events
are owed and stops by itself when none are (a newly queued event restarts it).
"""

from __future__ import annotations

import ipaddress
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cockpit.db.session import Database, session_tenant
from cockpit.idempotency import lock_writes
from tools.commerce.events.models import DUE_STATUSES, EventDelivery, OrderEvent
from tools.commerce.events.signing import SIGNATURE_HEADER, sign
from tools.commerce.platforms import Platform

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/agentic_checkout/webhooks/order_events"
"""Where a platform receives order events, under its registered ``webhook_url``."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently an event is retried."""

    max_attempts: int = 8
    """Attempts in all (the first included); the event is ``dead`` after the last one."""
    base: timedelta = timedelta(seconds=30)
    """Wait after the first failed attempt; doubled after each further one."""
    cap: timedelta = timedelta(hours=6)
    """Longest wait between two attempts."""
    jitter: float = 0.5
    """Share of each wait drawn at random (0: none), so retries of many events spread out."""

    def delay(self, failed_attempts: int, rng: random.Random) -> timedelta:
        """The wait before the next attempt after ``failed_attempts`` (≥ 1) failures."""
        exponent = min(max(failed_attempts - 1, 0), 30)
        full: timedelta = min(self.cap, self.base * (2**exponent))
        spread: timedelta = full * (self.jitter * rng.random())
        return full * (1 - self.jitter) + spread


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_allowed(url: str, allowed_hosts: Iterable[str] = ()) -> bool:
    """True for an http(s) URL on a loopback host or one of ``allowed_hosts``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    return is_loopback(host) or host in {h.lower() for h in allowed_hosts}


def event_url(webhook_url: str) -> str:
    """The order-events endpoint under a platform's ``webhook_url``."""
    base = webhook_url.rstrip("/")
    return base if base.endswith(WEBHOOK_PATH) else base + WEBHOOK_PATH


@dataclass(slots=True)
class DeliveryReport:
    """What one pass did."""

    delivered: int = 0
    retrying: int = 0
    dead: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.dead

    def add(self, other: DeliveryReport) -> None:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.dead += other.dead


@dataclass(frozen=True, slots=True)
class _Send:
    event_id: str
    url: str | None
    secret: str
    body: bytes
    refusal: str | None
    """Why it is not sent at all (final): the platform is gone/disabled or the URL not allowed."""


@dataclass(frozen=True, slots=True)
class _Result:
    status: int | None
    error: str | None
    duration_ms: int


@dataclass
class DeliveryWorker:
    """Delivers due order events of every tenant; ``at`` is always an input."""

    db: Database
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    allowed_hosts: frozenset[str] = frozenset()
    """Non-loopback hosts webhooks may go to (configured by the operator)."""
    timeout_s: float = 5.0
    """Per-request timeout (connect, read and write)."""
    batch: int = 50
    """Most events one pass sends per tenant."""
    rng: random.Random = field(default_factory=random.Random)
    transport: httpx.BaseTransport | None = None
    """For tests that must not open sockets; None: real HTTP."""
    _client: httpx.Client | None = field(default=None, init=False, repr=False)

    @property
    def lease(self) -> timedelta:
        """How long a claimed event stays invisible to other workers while it is sent."""
        return timedelta(seconds=self.timeout_s * 2 + 30)

    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=httpx.Timeout(self.timeout_s),
                transport=self.transport,
                follow_redirects=False,
                trust_env=False,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # ----- one pass ----------------------------------------------------------------------
    def run_due(self, *, at: datetime) -> DeliveryReport:
        """Send every event due at ``at`` once (at most ``batch`` per tenant); returns counts."""
        report = DeliveryReport()
        for tenant_id in self._tenants_with_due(at):
            report.add(self.run_tenant(tenant_id, at=at))
        return report

    def run_tenant(self, tenant_id: str, *, at: datetime) -> DeliveryReport:
        sends = self._claim(tenant_id, at)
        results = {s.event_id: self._send(s, at) for s in sends}
        return self._record(tenant_id, sends, results, at)

    def _tenants_with_due(self, at: datetime) -> list[str]:
        # The one cross-tenant read: which tenants have due events (ids only, no event data).
        table = OrderEvent.__table__
        stmt = (
            select(table.c.tenant_id)
            .where(table.c.status.in_(DUE_STATUSES), table.c.next_attempt_at <= at)
            .distinct()
        )
        with self.db.engine.connect() as conn:
            return sorted(str(t) for t in conn.execute(stmt).scalars())

    def next_due(self) -> datetime | None:
        """The earliest ``next_attempt_at`` of any tenant's owed event (None: none owed)."""
        table = OrderEvent.__table__
        stmt = select(func.min(table.c.next_attempt_at)).where(table.c.status.in_(DUE_STATUSES))
        with self.db.engine.connect() as conn:
            value = conn.execute(stmt).scalar()
        if value is None:
            return None
        when: datetime = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        return when if when.tzinfo is not None else when.replace(tzinfo=UTC)

    def _claim(self, tenant_id: str, at: datetime) -> list[_Send]:
        with self.db.tenant_session(tenant_id) as session:
            lock_writes(session)
            stmt = (
                select(OrderEvent)
                .where(OrderEvent.status.in_(DUE_STATUSES), OrderEvent.next_attempt_at <= at)
                .order_by(OrderEvent.next_attempt_at, OrderEvent.created_at)
                .limit(self.batch)
            )
            if self.db.dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            rows = list(session.scalars(stmt))
            sends = [self._prepare(session, row) for row in rows]
            for row in rows:
                row.next_attempt_at = at + self.lease
        return sends

    def _prepare(self, session: Session, row: OrderEvent) -> _Send:
        platform = session.get(Platform, row.platform_id)
        body = row.body.encode()
        if platform is None or platform.tenant_id != session_tenant(session) or platform.disabled:
            return _Send(row.id, None, "", body, "platform_disabled")
        if not platform.webhook_url:
            return _Send(row.id, None, "", body, "no_webhook_url")
        url = event_url(platform.webhook_url)
        if not url_allowed(url, self.allowed_hosts):
            return _Send(row.id, url, "", body, "url_not_allowed")
        return _Send(row.id, url, platform.webhook_secret, body, None)

    def _send(self, send: _Send, at: datetime) -> _Result:
        if send.refusal is not None or send.url is None:
            return _Result(None, send.refusal, 0)
        timestamp = int(at.timestamp())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(send.secret, send.body, timestamp=timestamp),
            "Request-Id": send.event_id,
            "Timestamp": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "User-Agent": "cockpit-order-events/1",
        }
        started = time.perf_counter()
        try:
            response = self.client().post(send.url, content=send.body, headers=headers)
            status, error = response.status_code, None
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.TimeoutException:
            status, error = None, "timeout"
        except httpx.HTTPError as exc:
            status, error = None, type(exc).__name__
        return _Result(status, error, int((time.perf_counter() - started) * 1000))

    def _record(
        self, tenant_id: str, sends: list[_Send], results: dict[str, _Result], at: datetime
    ) -> DeliveryReport:
        report = DeliveryReport()
        if not sends:
            return report
        with self.db.tenant_session(tenant_id) as session:
            lock_writes(session)
            for send in sends:
                row = session.get(OrderEvent, send.event_id)
                if row is None or row.status not in DUE_STATUSES:
                    continue  # finished by another worker after its lease ran out
                result = results[send.event_id]
                row.attempts += 1
                row.last_status_code = result.status
                row.last_error = result.error
                row.updated_at = at
                if result.status is not None and 200 <= result.status < 300:
                    row.status, row.delivered_at, row.next_attempt_at = "delivered", at, None
                    report.delivered += 1
                elif send.refusal is not None or row.attempts >= self.policy.max_attempts:
                    row.status, row.next_attempt_at = "dead", None
                    report.dead += 1
                else:
                    row.status = "failed"
                    row.next_attempt_at = at + self.policy.delay(row.attempts, self.rng)
                    report.retrying += 1
                session.add(
                    EventDelivery(
                        event_id=row.id,
                        attempt=row.attempts,
                        attempted_at=at,
                        url=send.url or "",
                        status_code=result.status,
                        error=result.error,
                        duration_ms=result.duration_ms,
                        outcome="retry" if row.status == "failed" else row.status,
                    )
                )
        return report


class DeliveryLoop:
    """Runs :meth:`DeliveryWorker.run_due` on a daemon thread while events are owed.

    :meth:`kick` (called after a transaction that queued an event commits) starts the thread
    when it is not running. The thread sleeps until the earliest next attempt (at most
    ``interval_s`` at a time) and **stops by itself** once no event is pending or awaiting a
    retry, so an idle server holds no thread; :meth:`stop` ends it at shutdown. Errors are
    logged and the loop goes on.
    """

    def __init__(
        self,
        worker: DeliveryWorker,
        *,
        clock: Callable[[], datetime],
        interval_s: float = 2.0,
    ) -> None:
        self.worker = worker
        self.clock = clock
        self.interval_s = interval_s
        self.wake = threading.Event()
        self.passes = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        """New work: wake the thread, starting it if it has stopped."""
        with self._lock:
            self.wake.set()
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="commerce-order-events", daemon=True
                )
                self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the loop and wait for the pass in flight (bounded by ``timeout_s``)."""
        with self._lock:
            self._stop.set()
            self.wake.set()
            thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
        self.worker.close()

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.wake.clear()
            wait: float | None = self.interval_s
            try:
                report = self.worker.run_due(at=self.clock())
                wait = 0.0 if report.attempted >= self.worker.batch else self._until_next()
            except Exception:
                log.exception("order event delivery pass failed")
            self.passes += 1
            if wait is None:
                with self._lock:
                    if not self.wake.is_set():
                        self._thread = None  # nothing owed: stop; the next kick restarts
                        return
                continue
            if wait > 0:
                self.wake.wait(wait)
        with self._lock:
            self._thread = None

    def _until_next(self) -> float | None:
        """Seconds to the earliest owed attempt (capped at ``interval_s``); None: none owed."""
        due = self.worker.next_due()
        if due is None:
            return None
        seconds = (due - self.clock()).total_seconds()
        return min(max(seconds, 0.05), self.interval_s)


__all__ = [
    "WEBHOOK_PATH",
    "DeliveryLoop",
    "DeliveryReport",
    "DeliveryWorker",
    "RetryPolicy",
    "event_url",
    "is_loopback",
    "url_allowed",
]
