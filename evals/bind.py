"""Binding: resolve a task's placeholders (``{pay.id}``) from its world before the run.

A bind names a kind of entity and filters ("a captured card payment of this merchant, not yet
refunded"); the world's database answers, deterministically (ordered, then ``index``), and two
binds of the same kind never get the same entity. Reads the world's SQLite file directly.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from cockpit.errors import UserError
from cockpit.money import exponent
from evals.task import Bind

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\.([a-z_]+)\}")
Bound = dict[str, dict[str, Any]]


class BindError(UserError):
    """The world has no entity that fits a bind (the task cannot run in this world)."""


def _merchant_id(spec: Bind, default: str | None, merchants: dict[str, str]) -> str | None:
    if spec.merchant is None:
        return default
    return merchants.get(spec.merchant, spec.merchant)


def _order(spec: Bind, amount: str, time: str) -> str:
    return {
        "newest": f"{time} DESC, id DESC",
        "oldest": f"{time} ASC, id ASC",
        "largest": f"{amount} DESC, id ASC",
        "smallest": f"{amount} ASC, id ASC",
    }[spec.order]


def _major(amount: int, currency: str) -> str:
    exp = exponent(currency)
    return f"{amount / 10**exp:.{exp}f}" if exp else str(amount)


def _payment(
    c: sqlite3.Connection, spec: Bind, merchant: str | None, taken: set[str]
) -> dict[str, Any]:
    where: list[str] = ["1=1"]
    params: list[Any] = []
    if merchant:
        where.append("merchant_id = ?")
        params.append(merchant)
    for column, value in (("state", spec.status), ("method_type", spec.method_type)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value.upper())
    if spec.min_amount is not None:
        where.append("amount >= ?")
        params.append(spec.min_amount)
    if spec.max_amount is not None:
        where.append("amount <= ?")
        params.append(spec.max_amount)
    if spec.refunded is not None:
        where.append("refunded_amount > 0" if spec.refunded else "refunded_amount = 0")
    if spec.disputed is not None:
        where.append("disputed = 1" if spec.disputed else "disputed = 0")
    rows = c.execute(
        "SELECT id, amount, currency, state, method_type, merchant_id, decline_code, "
        f"captured_amount FROM pay_payments WHERE {' AND '.join(where)} "
        f"ORDER BY {_order(spec, 'amount', 'created_at')}",
        params,
    ).fetchall()
    row = _pick(spec, [r for r in rows if r[0] not in taken])
    pid, amount, currency, state, method, mid, decline, captured = row
    return {
        "id": pid,
        "amount": amount,
        "currency": currency,
        "amount_major": _major(amount, currency),
        "state": state,
        "method_type": method,
        "merchant_id": mid,
        "decline_code": decline or "",
        "captured": captured,
    }


def _dispute(
    c: sqlite3.Connection, spec: Bind, merchant: str | None, taken: set[str]
) -> dict[str, Any]:
    where: list[str] = ["1=1"]
    params: list[Any] = []
    if merchant:
        where.append("merchant_id = ?")
        params.append(merchant)
    if spec.status is not None:
        where.append("status = ?")
        params.append(spec.status.upper())
    rows = c.execute(
        "SELECT id, payment_id, status, reason_code, amount, currency, network FROM pay_disputes "
        f"WHERE {' AND '.join(where)} ORDER BY {_order(spec, 'amount', 'opened_at')}",
        params,
    ).fetchall()
    row = _pick(spec, [r for r in rows if r[0] not in taken])
    keys = ("id", "payment_id", "status", "reason_code", "amount", "currency", "network")
    return dict(zip(keys, row, strict=True))


def _customer(
    c: sqlite3.Connection, spec: Bind, merchant: str | None, taken: set[str]
) -> dict[str, Any]:
    if spec.fraud_ring:
        raise BindError(
            "bind kind customer: fraud_ring is not supported yet", code="bind_unsupported"
        )
    where, params = "", []
    if merchant:
        where = "WHERE id IN (SELECT customer_id FROM pay_payments WHERE merchant_id = ?)"
        params.append(merchant)
    rows = c.execute(
        f"SELECT id, country FROM pay_customers {where} ORDER BY id", params
    ).fetchall()
    row = _pick(spec, [r for r in rows if r[0] not in taken])
    return {"id": row[0], "country": row[1]}


def _merchant(
    c: sqlite3.Connection, spec: Bind, merchant: str | None, taken: set[str]
) -> dict[str, Any]:
    row = c.execute(
        "SELECT id, name, country FROM pay_merchants WHERE id = ?", (merchant,)
    ).fetchone()
    if row is None:
        raise BindError(f"bind kind merchant: no merchant {merchant!r}", code="bind_unresolved")
    return {"id": row[0], "name": row[1], "country": row[2]}


def _strategy(
    c: sqlite3.Connection, spec: Bind, merchant: str | None, taken: set[str]
) -> dict[str, Any]:
    name = spec.name or "merchant-default"
    row = c.execute(
        "SELECT v.id, v.name, v.version FROM credit_deployments d JOIN credit_strategy_versions v "
        "ON v.id = d.champion_id WHERE d.name = ? AND d.rolled_back_at IS NULL "
        "ORDER BY d.created_at DESC LIMIT 1",
        (name,),
    ).fetchone()
    if row is None:
        raise BindError(f"bind kind strategy: {name!r} is not deployed", code="bind_unresolved")
    return {"id": row[0], "name": row[1], "version": row[2]}


def _pick(spec: Bind, rows: list[Any]) -> Any:
    if len(rows) <= spec.index:
        raise BindError(
            f"no {spec.kind} in this world fits {spec.model_dump(exclude_defaults=True)}",
            code="bind_unresolved",
        )
    return rows[spec.index]


_RESOLVERS = {
    "payment": _payment,
    "dispute": _dispute,
    "customer": _customer,
    "merchant": _merchant,
    "strategy": _strategy,
}


def resolve_binds(
    database: Path,
    binds: dict[str, Bind],
    *,
    merchant_id: str | None,
    merchants: dict[str, str],
) -> Bound:
    """Every bind's fields, plus ``user.merchant_id``."""
    out: Bound = {"user": {"merchant_id": merchant_id or ""}}
    taken: set[str] = set()
    c = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        for name, spec in binds.items():
            merchant = _merchant_id(spec, merchant_id, merchants)
            found = _RESOLVERS[spec.kind](c, spec, merchant, taken)
            taken.add(str(found["id"]))
            out[name] = found
    finally:
        c.close()
    return out


def substitute(value: Any, bound: Bound) -> Any:
    """``value`` with placeholders filled; a string that is one placeholder keeps its type."""
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole:
            return _lookup(bound, whole.group(1), whole.group(2))
        return _PLACEHOLDER.sub(lambda m: str(_lookup(bound, m.group(1), m.group(2))), value)
    if isinstance(value, dict):
        return {k: substitute(v, bound) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, bound) for v in value]
    return value


def _lookup(bound: Bound, name: str, field: str) -> Any:
    if name not in bound or field not in bound[name]:
        raise BindError(f"placeholder {{{name}.{field}}} is not bound", code="bind_unknown")
    return bound[name][field]


__all__ = ["BindError", "Bound", "resolve_binds", "substitute"]
