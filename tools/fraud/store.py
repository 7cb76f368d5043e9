"""Stored scoring results: one row per ``(tenant_id, txn_id)`` in ``fraud_scores``.

Every transaction the service scores is written here with its result (score, decision,
reason codes), the model version, the feature values the model saw and a fingerprint of
the inputs. The row is what makes an explanation survive a restart and what makes scoring
idempotent per transaction id (:class:`tools.fraud.service.FraudService`): a stored id is
answered from here instead of being scored — and counted in the velocity / graph state —
again. The fingerprint is the SHA-256 of the canonical JSON of the parsed transaction, so
the same payment sent as ISO time or as epoch seconds, or with ``usd`` for ``USD``, is the
same request.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

import numpy as np
import orjson
from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    bindparam,
    select,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped, iso, utcnow
from cockpit.db.session import Database
from tools.fraud.schema import Transaction

_IN_CHUNK = 500
"""Ids per ``IN (…)`` lookup (well under SQLite's bound-parameter limit)."""


class ScoreRecord(TenantScoped, Base):
    __tablename__ = "fraud_scores"
    __table_args__ = (UniqueConstraint("tenant_id", "txn_id", name="uq_fraud_scores_txn"),)

    # The unique (tenant_id, txn_id) index serves every scoped read; no second tenant index.
    tenant_id: Mapped[str] = mapped_column(String(64), nullable=False)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    txn_id: Mapped[str] = mapped_column(String(128))
    merchant_id: Mapped[str] = mapped_column(String(128))
    fingerprint: Mapped[str] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    decision: Mapped[str] = mapped_column(String(16))
    reason_codes: Mapped[list[str]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The response as first returned (:meth:`ScoreResult.to_dict`)."""
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    features: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Feature name → value the model scored (null = missing / no history)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


_TABLE = cast(Table, ScoreRecord.__table__)
# The per-payment statements go through Core, built once, on a plain connection of the engine:
# building an ORM statement and scoping it per call cost more than the database work (and a
# Core statement sent through a session still pays the ORM execution hooks, ~2x the CPU of the
# read itself; the session's begin and commit alone were ~60 us per batch of HTTP scores). Core
# bypasses the session's automatic tenant scoping, so both name the tenant explicitly.
_FIND = select(_TABLE.c.txn_id, _TABLE.c.fingerprint, _TABLE.c.result).where(
    _TABLE.c.tenant_id == bindparam("tenant"),
    _TABLE.c.txn_id.in_(bindparam("ids", expanding=True)),
)
_INSERT = _TABLE.insert()
_JSON_COLUMNS = ("reason_codes", "result", "features")


def json_bytes(value: Any) -> bytes:
    """``value`` as compact JSON (orjson: numpy scalars as numbers, NaN as null), what the
    score endpoint answers and SQLite stores; several times cheaper than the standard library."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)


class _OrjsonText(TypeDecorator[Any]):
    """A JSON value bound as the text orjson writes (for SQLite, where a JSON column is text)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else json_bytes(value).decode()


# SQLite stores JSON as text, so its insert serialises with orjson: the standard library's
# encoder was a third of the thread's CPU for an HTTP score (result, features, reason codes of
# every row). Other databases keep the JSON type's own binding (PostgreSQL casts it to json).
_INSERT_SQLITE = _TABLE.insert().values(
    {c: bindparam(c, type_=_OrjsonText()) for c in _JSON_COLUMNS}
)


@dataclass(frozen=True, slots=True)
class NewScore:
    """A scoring result to store."""

    txn_id: str
    merchant_id: str
    fingerprint: str
    result: dict[str, Any]
    model_version: str | None
    features: dict[str, float | None]


@dataclass(frozen=True, slots=True)
class PriorScore:
    """What a retry needs of a stored score: the inputs' fingerprint and the first result."""

    fingerprint: str
    result: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredScore:
    """A stored score in full, for explanations."""

    txn_id: str
    merchant_id: str
    result: dict[str, Any]
    model_version: str | None
    features: dict[str, float | None]
    created_at: str


_FIELDS = tuple(f.name for f in fields(Transaction))


def fingerprint(txn: Transaction) -> str:
    """SHA-256 of the canonical JSON of a parsed transaction (its idempotency fingerprint).

    Fields left unset (None) are omitted, so a new optional field does not change the
    fingerprint of transactions stored before it existed.
    """
    body = {f: v for f in _FIELDS if (v := getattr(txn, f)) is not None}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def feature_map(names: Sequence[str], values: Iterable[float]) -> dict[str, float | None]:
    """``{name: value}`` with NaN / ±inf as null (JSON and PostgreSQL refuse them)."""
    if isinstance(values, np.ndarray):  # the scorer's vector: find the few non-finite at once
        out: dict[str, float | None] = dict(zip(names, values.tolist(), strict=True))
        for i in np.flatnonzero(~np.isfinite(values)).tolist():
            out[names[i]] = None
        return out
    return {n: (v if math.isfinite(v) else None) for n, v in zip(names, values, strict=True)}


def find(conn: Connection, tenant_id: str, txn_ids: Sequence[str]) -> dict[str, PriorScore]:
    """The stored fingerprint and result of each of ``txn_ids`` that ``tenant_id`` scored."""
    out: dict[str, PriorScore] = {}
    for start in range(0, len(txn_ids), _IN_CHUNK):
        chunk = list(txn_ids[start : start + _IN_CHUNK])
        rows = conn.execute(_FIND, {"tenant": tenant_id, "ids": chunk}).all()
        for txn_id, fp, result in rows:
            out[str(txn_id)] = PriorScore(fingerprint=str(fp), result=dict(result))
    return out


def add(conn: Connection, tenant_id: str, scores: Sequence[NewScore]) -> None:
    """Insert ``scores`` for ``tenant_id`` in the connection's transaction (IntegrityError if
    an id is stored)."""
    if not scores:
        return
    now = utcnow()
    conn.execute(
        _INSERT_SQLITE if conn.dialect.name == "sqlite" else _INSERT,
        [
            {
                "tenant_id": tenant_id,
                "txn_id": n.txn_id,
                "merchant_id": n.merchant_id,
                "fingerprint": n.fingerprint,
                "score": n.result.get("score"),
                "decision": n.result["decision"],
                "reason_codes": [r["code"] for r in n.result.get("reasons", [])],
                "result": n.result,
                "model_version": n.model_version,
                "features": n.features,
                "created_at": now,
            }
            for n in scores
        ],
    )


def load(db: Database, tenant_id: str, txn_id: str) -> StoredScore | None:
    """The tenant's stored score of ``txn_id`` (None if it never scored it)."""
    with db.tenant_session(tenant_id) as s:
        row = s.scalars(select(ScoreRecord).where(ScoreRecord.txn_id == txn_id)).first()
        if row is None:
            return None
        return StoredScore(
            txn_id=row.txn_id,
            merchant_id=row.merchant_id,
            result=dict(row.result),
            model_version=row.model_version,
            features=dict(row.features),
            created_at=iso(row.created_at),
        )


__all__ = [
    "NewScore",
    "PriorScore",
    "ScoreRecord",
    "StoredScore",
    "add",
    "feature_map",
    "find",
    "fingerprint",
    "json_bytes",
    "load",
]
