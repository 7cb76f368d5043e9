"""ACP ``Idempotency-Key`` semantics (DOMAIN.md §10a), on SQLite and PostgreSQL alike.

A POST first *claims* its key in a short transaction of its own: a ``com_idempotency`` row
``in_flight`` under a unique constraint on (tenant, API key, path, key). The operation then
runs in ONE transaction that also turns the claim into the stored answer (:func:`finish`), so
the business effect and the record commit together or not at all. Outcomes:

* nothing stored (or stored more than :data:`RETENTION` ago) → the request runs;
* stored answer, same body → the answer is replayed, nothing runs again;
* claim still in flight, same body → 409 ``idempotency_in_flight`` + ``Retry-After``;
* anything stored under another body → 422 ``idempotency_conflict`` (never retry);
* the operation failed with a 5xx (or crashed) → the claim is released: a retry runs afresh;
  a 4xx ACP error is stored and replayed like any answer.

A claim whose holder died is taken over once its lease (:data:`LEASE`) has passed; the
holder's own :func:`finish` then finds the claim gone and rolls its work back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cockpit.db.session import Database
from cockpit.errors import InternalError
from cockpit.idempotency import lock_writes
from cockpit.tenancy.principal import Principal
from tools.commerce.acp.models import IdempotencyRecord
from tools.commerce.acp.wire import (
    AcpResponse,
    RequestMeta,
    body_fingerprint,
    require_idempotency_key,
)
from tools.commerce.errors import AcpError

RETENTION = timedelta(hours=24)
"""Keys are kept at least this long; an older record no longer binds its key."""
LEASE = timedelta(seconds=60)
"""How long an in-flight claim is honoured before another request may take it over."""
RETRY_AFTER_S = 1


@dataclass(frozen=True, slots=True)
class Stored:
    """An earlier answer under the same key and body."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Claim:
    """This request holds the key; :func:`finish` or :func:`release` must follow."""

    record_id: str
    owner: str


def _conflict(echo: Mapping[str, str]) -> AcpError:
    return AcpError(
        "Idempotency-Key has already been used with a different request body",
        code="idempotency_conflict",
        status=422,
        headers=dict(echo),
    )


def _in_flight(echo: Mapping[str, str]) -> AcpError:
    return AcpError(
        "A request with this Idempotency-Key is currently being processed",
        code="idempotency_in_flight",
        status=409,
        headers={**echo, "Retry-After": str(RETRY_AFTER_S)},
    )


def _answer(
    row: IdempotencyRecord, fingerprint: str, echo: Mapping[str, str], *, at: datetime
) -> Stored | None:
    """The stored answer, or None when the row no longer binds the key (stale / expired)."""
    if row.created_at + RETENTION <= at:
        return None
    if row.fingerprint != fingerprint:
        raise _conflict(echo)
    if row.state == "done" and row.response is not None and row.status_code is not None:
        resp = dict(row.response)
        return Stored(row.status_code, dict(resp["body"]), dict(resp.get("headers", {})))
    if row.lease_until > at:
        raise _in_flight(echo)
    return None


def claim(
    db: Database,
    tenant_id: str,
    *,
    key_id: str,
    scope: str,
    key: str,
    fingerprint: str,
    echo: Mapping[str, str],
    at: datetime,
) -> Claim | Stored:
    """Claim ``key`` for this request, or answer with what an earlier one left."""
    owner = uuid.uuid4().hex
    where = (
        IdempotencyRecord.key_id == key_id,
        IdempotencyRecord.scope == scope,
        IdempotencyRecord.idem_key == key,
    )
    for _attempt in range(3):
        try:
            with db.tenant_session(tenant_id) as s:
                lock_writes(s)
                row = s.scalar(select(IdempotencyRecord).where(*where).with_for_update())
                if row is not None:
                    stored = _answer(row, fingerprint, echo, at=at)
                    if stored is not None:
                        return stored
                    # Expired or abandoned: this request takes the key over.
                    row.fingerprint, row.owner, row.state = fingerprint, owner, "in_flight"
                    row.status_code, row.response = None, None
                    row.created_at, row.lease_until = at, at + LEASE
                    return Claim(row.id, owner)
                record_id = "idem_" + uuid.uuid4().hex[:24]
                s.add(
                    IdempotencyRecord(
                        id=record_id,
                        key_id=key_id,
                        scope=scope,
                        idem_key=key,
                        fingerprint=fingerprint,
                        owner=owner,
                        state="in_flight",
                        created_at=at,
                        lease_until=at + LEASE,
                    )
                )
                s.flush()
                return Claim(record_id, owner)
        except IntegrityError:
            continue  # another request inserted the key first: read what it left
    raise InternalError("could not claim the idempotency key", code="idempotency_claim_failed")


def finish(
    session: Session,
    held: Claim,
    *,
    status: int,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
) -> None:
    """Store the answer in the operation's own transaction (raises if the claim was lost)."""
    done = session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == held.record_id, IdempotencyRecord.owner == held.owner)
        .values(
            state="done",
            status_code=status,
            response={"body": dict(body), "headers": dict(headers)},
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 1) != 1:
        raise InternalError(
            "the idempotency claim was taken over while this request ran",
            code="idempotency_claim_lost",
        )


def store_error(db: Database, tenant_id: str, held: Claim, error: AcpError) -> None:
    """Keep a 4xx answer for replay (the operation's transaction has rolled back)."""
    with db.tenant_session(tenant_id) as s:
        lock_writes(s)
        finish(s, held, status=error.status, body=error.wire_body(), headers=error.wire_headers())


def release(db: Database, tenant_id: str, held: Claim) -> None:
    """Forget the claim after a 5xx: a retry with the key runs as a fresh request."""
    with db.tenant_session(tenant_id) as s:
        lock_writes(s)
        s.execute(
            delete(IdempotencyRecord)
            .where(IdempotencyRecord.id == held.record_id, IdempotencyRecord.owner == held.owner)
            .execution_options(synchronize_session=False)
        )


def run_once(
    db: Database,
    principal: Principal,
    meta: RequestMeta,
    scope: str,
    payload: Mapping[str, Any] | None,
    op: Callable[[Session], tuple[int, dict[str, Any]]],
    *,
    at: datetime,
) -> AcpResponse:
    """Run ``op`` (in one transaction with its idempotency record) once per key and body."""
    key = require_idempotency_key(meta)
    echo = meta.echo()
    tenant = principal.tenant_id
    got = claim(
        db,
        tenant,
        key_id=principal.key_id,
        scope=scope,
        key=key,
        fingerprint=body_fingerprint(payload),
        echo=echo,
        at=at,
    )
    if isinstance(got, Stored):
        return AcpResponse(
            got.status, got.body, {**got.headers, **echo, "Idempotent-Replayed": "true"}
        )
    try:
        with db.tenant_session(tenant) as s:
            lock_writes(s)
            status, body = op(s)
            finish(s, got, status=status, body=body, headers=echo)
    except AcpError as exc:
        exc.headers = {**echo, **exc.headers}
        if exc.status >= 500:
            release(db, tenant, got)
        else:
            store_error(db, tenant, got, exc)
        raise
    except BaseException:
        release(db, tenant, got)
        raise
    return AcpResponse(status, body, echo)


__all__ = [
    "LEASE",
    "RETENTION",
    "Claim",
    "Stored",
    "claim",
    "finish",
    "release",
    "run_once",
    "store_error",
]
