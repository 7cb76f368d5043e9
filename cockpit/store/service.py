"""The LangGraph store behind ``/store``: JSON items per tenant, in dotted namespaces.

A caller only ever names namespaces *inside* its own store: the tenant (and, for a key bound to
a merchant, that merchant) is taken from the key and is a column, never part of the namespace,
so no namespace a client can write reaches another tenant's or merchant's items.

Search is plain text, not semantic: ``query`` matches the words of the item's value (or of the
fields its ``index`` named), scored by the share of query words found. ``filter`` compares
top-level value keys (equality, or ``$eq $ne $gt $gte $lt $lte``). TTLs are in minutes and run on
the platform clock; expired items are invisible at once and deleted on the next write.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from cockpit.db.base import iso, utcnow
from cockpit.db.session import Database
from cockpit.errors import NotFound, PayloadTooLarge, ValidationFailed
from cockpit.store.models import StoreItem
from cockpit.tenancy.principal import Principal

MAX_VALUE_BYTES = 64 * 1024
"""Largest value (as compact JSON) one item may hold."""
MAX_LABELS = 16
MAX_TTL_MINUTES = 60 * 24 * 365 * 10
_OPS = {
    "$eq": lambda a, b: a == b,
    "$ne": lambda a, b: a != b,
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class StoreScope:
    """Whose store a request reads: the tenant, narrowed to a merchant for a bound key."""

    tenant_id: str
    merchant: str = ""

    @classmethod
    def of(cls, principal: Principal) -> StoreScope:
        return cls(principal.tenant_id, principal.merchant_id or "")


def check_namespace(value: Any, *, param: str, allow_empty: bool = False) -> tuple[str, ...]:
    """A namespace is a list of non-empty labels without ``.`` (the SDK joins them with it)."""
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValidationFailed(
            f"{param} must be a list of strings", code="invalid_namespace", param=param
        )
    if not value and not allow_empty:
        raise ValidationFailed(f"{param} cannot be empty", code="invalid_namespace", param=param)
    if len(value) > MAX_LABELS:
        raise ValidationFailed(
            f"{param} has more than {MAX_LABELS} labels", code="invalid_namespace", param=param
        )
    for i, label in enumerate(value):
        if not label or "." in label or len(label) > 64:
            raise ValidationFailed(
                "namespace labels are 1-64 characters without '.'",
                code="invalid_namespace",
                param=f"{param}.{i}",
            )
    return tuple(value)


def parse_namespace(text: str, *, param: str = "namespace") -> tuple[str, ...]:
    """The query-string form (``a.b.c``) the SDK's ``get_item`` sends."""
    return check_namespace(text.split(".") if text else [], param=param)


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not key or len(key) > 255:
        raise ValidationFailed("key must be 1-255 characters", code="invalid_key", param="key")
    return key


def _check_value(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationFailed("value must be a JSON object", code="invalid_value", param="value")
    size = len(json.dumps(value, separators=(",", ":")).encode())
    if size > MAX_VALUE_BYTES:
        raise PayloadTooLarge(
            f"value is {size} bytes; an item holds at most {MAX_VALUE_BYTES}",
            code="value_too_large",
            param="value",
        )
    return value


def _check_index(index: Any) -> Any:
    if index is None or index is False:
        return index
    if isinstance(index, list) and all(isinstance(f, str) and f for f in index):
        return index
    raise ValidationFailed(
        "index must be false or a list of field paths", code="invalid_index", param="index"
    )


def _check_ttl(ttl: Any) -> float | None:
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not 0 < ttl <= MAX_TTL_MINUTES:
        raise ValidationFailed(
            f"ttl is minutes, above 0 and at most {MAX_TTL_MINUTES}",
            code="invalid_ttl",
            param="ttl",
        )
    return float(ttl)


def _check_filter(flt: Any) -> dict[str, Any]:
    if flt is None:
        return {}
    if not isinstance(flt, dict):
        raise ValidationFailed("filter must be an object", code="invalid_filter", param="filter")
    for field, cond in flt.items():
        if isinstance(cond, dict) and any(k.startswith("$") for k in cond):
            bad = sorted(k for k in cond if k not in _OPS)
            if bad:
                raise ValidationFailed(
                    f"unknown filter operator {bad[0]!r}; use one of {sorted(_OPS)}",
                    code="invalid_filter",
                    param=f"filter.{field}",
                )
    return flt


def _matches(value: Mapping[str, Any], flt: Mapping[str, Any]) -> bool:
    for field, cond in flt.items():
        have = value.get(field)
        if isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond):
            for op, want in cond.items():
                try:
                    if not _OPS[op](have, want):
                        return False
                except TypeError:  # comparing across types never matches
                    return False
        elif have != cond:
            return False
    return True


def _field(value: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _text_score(row: StoreItem, words: set[str]) -> float:
    """Share of ``words`` found in the value (or the fields ``index`` named); 0 when unindexed."""
    if row.index is False:
        return 0.0
    source: Any = row.value
    if isinstance(row.index, list):
        source = [_field(row.value, p) for p in row.index]
    found = {w.lower() for w in _WORD.findall(json.dumps(source, ensure_ascii=False))}
    return len(words & found) / len(words)


def item_json(row: StoreItem, *, score: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "namespace": row.namespace.split("."),
        "key": row.key,
        "value": row.value,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }
    if score is not None:
        out["score"] = score
    return out


class ItemStore:
    """Items of every tenant in one table; every call is confined to one :class:`StoreScope`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _live(self, scope: StoreScope, now: datetime) -> Any:
        return select(StoreItem).where(
            StoreItem.scope == scope.merchant,
            or_(StoreItem.expires_at.is_(None), StoreItem.expires_at > now),
        )

    def _one(self, s: Session, scope: StoreScope, ns: str, key: str, now: datetime) -> Any:
        return s.scalars(
            self._live(scope, now).where(StoreItem.namespace == ns, StoreItem.key == key)
        ).one_or_none()

    def put(
        self,
        scope: StoreScope,
        namespace: Sequence[str],
        key: str,
        value: Any,
        *,
        index: Any = None,
        ttl: Any = None,
    ) -> None:
        """Create or replace an item (its ``created_at`` survives a replace)."""
        ns = ".".join(check_namespace(list(namespace), param="namespace"))
        key, value = _check_key(key), _check_value(value)
        index, minutes = _check_index(index), _check_ttl(ttl)
        now = utcnow()
        with self._db.tenant_session(scope.tenant_id) as s:
            s.execute(
                delete(StoreItem)
                .where(StoreItem.scope == scope.merchant, StoreItem.expires_at <= now)
                .execution_options(synchronize_session=False)
            )
            row = s.scalars(
                select(StoreItem).where(
                    StoreItem.scope == scope.merchant,
                    StoreItem.namespace == ns,
                    StoreItem.key == key,
                )
            ).one_or_none()
            if row is None:
                row = StoreItem(
                    scope=scope.merchant,
                    namespace=ns,
                    depth=len(namespace),
                    key=key,
                    created_at=now,
                )
                s.add(row)
            row.value, row.index, row.ttl_minutes, row.updated_at = value, index, minutes, now
            row.expires_at = None if minutes is None else now + timedelta(minutes=minutes)

    def get(
        self, scope: StoreScope, namespace: Sequence[str], key: str, *, refresh_ttl: bool = True
    ) -> dict[str, Any]:
        ns = ".".join(check_namespace(list(namespace), param="namespace"))
        now = utcnow()
        with self._db.tenant_session(scope.tenant_id) as s:
            row = self._one(s, scope, ns, _check_key(key), now)
            if row is None:
                raise NotFound(f"no item {key!r} in {ns!r}", code="item_not_found", param="key")
            if refresh_ttl:
                _refresh(row, now)
            return item_json(row)

    def delete(self, scope: StoreScope, namespace: Sequence[str], key: str) -> None:
        """Deleting an item that is not there is not an error (the end state is the same)."""
        ns = ".".join(check_namespace(list(namespace), param="namespace"))
        with self._db.tenant_session(scope.tenant_id) as s:
            s.execute(
                delete(StoreItem)
                .where(
                    StoreItem.scope == scope.merchant,
                    StoreItem.namespace == ns,
                    StoreItem.key == _check_key(key),
                )
                .execution_options(synchronize_session=False)
            )

    def search(
        self,
        scope: StoreScope,
        prefix: Sequence[str],
        *,
        filter: Any = None,
        query: str | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool = True,
    ) -> list[dict[str, Any]]:
        """Items under ``prefix``; with ``query`` the ones that share a word, best first."""
        pre = ".".join(check_namespace(list(prefix), param="namespace_prefix", allow_empty=True))
        flt = _check_filter(filter)
        words = {w.lower() for w in _WORD.findall(query or "")}
        now = utcnow()
        with self._db.tenant_session(scope.tenant_id) as s:
            q = self._live(scope, now)
            if pre:
                q = q.where(
                    or_(
                        StoreItem.namespace == pre,
                        StoreItem.namespace.startswith(pre + ".", autoescape=True),
                    )
                )
            rows = [
                r
                for r in s.scalars(q.order_by(StoreItem.updated_at.desc(), StoreItem.id.desc()))
                if _matches(r.value, flt)
            ]
            scored: list[tuple[StoreItem, float | None]] = [(r, None) for r in rows]
            if words:
                scored = [(r, _text_score(r, words)) for r in rows]
                scored = sorted((p for p in scored if p[1]), key=lambda p: -(p[1] or 0.0))
            page = scored[offset : offset + limit]
            if refresh_ttl:
                for row, _score in page:
                    _refresh(row, now)
            return [item_json(r, score=sc) for r, sc in page]

    def list_namespaces(
        self,
        scope: StoreScope,
        *,
        prefix: Sequence[str] | None = None,
        suffix: Sequence[str] | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[list[str]]:
        """Distinct namespaces (``*`` in ``prefix``/``suffix`` matches any one label),
        cut to ``max_depth`` labels, sorted."""
        pre = check_namespace(list(prefix or []), param="prefix", allow_empty=True)
        suf = check_namespace(list(suffix or []), param="suffix", allow_empty=True)
        if max_depth is not None and max_depth < 1:
            raise ValidationFailed(
                "max_depth must be at least 1", code="invalid_value", param="max_depth"
            )
        with self._db.tenant_session(scope.tenant_id) as s:
            live = self._live(scope, utcnow()).with_only_columns(StoreItem.namespace).distinct()
            names = [tuple(n.split(".")) for n in s.scalars(live)]
        found: set[tuple[str, ...]] = set()
        for ns in names:
            if not (_labels_match(ns[: len(pre)], pre) and len(ns) >= len(pre)):
                continue
            if suf and not (len(ns) >= len(suf) and _labels_match(ns[len(ns) - len(suf) :], suf)):
                continue
            found.add(ns[:max_depth] if max_depth else ns)
        return [list(ns) for ns in sorted(found)][offset : offset + limit]


def _labels_match(have: Sequence[str], want: Sequence[str]) -> bool:
    return len(have) == len(want) and all(w in ("*", h) for h, w in zip(have, want, strict=True))


def _refresh(row: StoreItem, now: datetime) -> None:
    if row.ttl_minutes is not None:
        row.expires_at = now + timedelta(minutes=row.ttl_minutes)


__all__ = [
    "MAX_VALUE_BYTES",
    "ItemStore",
    "StoreScope",
    "check_namespace",
    "item_json",
    "parse_namespace",
]
