"""End-state snapshots: what a run changed in the domain state, normalised so worlds compare.

A world is a copy of a template database, so its end state is read as a diff against the
template (both ways, per table): rows added or changed, rows removed or replaced.
Ids minted during the run, timestamps and request-derived keys differ between two worlds that
did the same thing, so they are normalised away; two snapshots are equal when the worlds were
changed the same way. Approvals, audit, threads and caches are not domain state (approvals are
checked by assertions).
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Domain tables: payments, fraud blocks, credit.
PREFIXES = ("pay_", "fraud_", "credit_")
#: Tables whose new ids are masked wherever domain rows mention them, without being compared
#: themselves: commerce (checkout sessions, orders, tokens, 3DS sessions) holds signatures,
#: hashes and JWTs that differ between two worlds that did the same thing; the shopping-agent
#: evals grade it by assertions (orders, receipts) instead.
ID_ONLY_PREFIXES = ("com_",)
SKIP_TABLES = frozenset(
    {
        "pay_idempotency",
        "pay_deliveries",
        "pay_demo_worlds",
        "fraud_scores",
        # Documents attached to payments (an agentic checkout: signed mandates, receipts, risk
        # scores, hashes) differ between two worlds that did the same; assertions grade them.
        "pay_payment_documents",
    }
)
#: Columns that echo a response or derive from request keys (thread/call ids), not state.
SKIP_COLUMNS = frozenset(
    {
        "response",
        "request_id",
        "fingerprint",
        "idempotency_key",
        "request_hash",
        "created_by",
        "updated_by",
        "trace",
    }
)
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?$")
_NEW_ID = re.compile(r"^([a-z]{2,6})_[0-9a-f]{16,32}$")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Per table, the normalised rows added and removed against the initial world."""

    tables: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.tables

    def to_dict(self) -> dict[str, Any]:
        return self.tables


def _tables(c: sqlite3.Connection, prefixes: tuple[str, ...] = PREFIXES) -> list[str]:
    rows = c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    return [n for (n,) in rows if n.startswith(prefixes) and n not in SKIP_TABLES]


def _columns(c: sqlite3.Connection, table: str) -> list[tuple[str, str, bool]]:
    return [
        (r[1], (r[2] or "").upper(), bool(r[5])) for r in c.execute(f'PRAGMA table_info("{table}")')
    ]


def _volatile(name: str) -> bool:
    """A column or JSON key derived from request keys (which embed thread and call ids) or
    from a minted id (an approval code is drawn from the payment id)."""
    flat = name.replace("_", "").lower()
    return (
        name in SKIP_COLUMNS
        or flat.endswith("requestid")
        or flat in {"idempotencykey", "authorizationcode"}
    )


def _norm(value: Any, new_ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        if value in new_ids:
            return new_ids[value]
        if _TIME.match(value):
            return "<time>"
        for raw, token in new_ids.items():
            if raw in value:
                value = value.replace(raw, token)
        if value[:1] in "{[":
            try:
                return _norm(json.loads(value), new_ids)
            except ValueError:
                return value
        return value
    if isinstance(value, dict):
        return {k: _norm(v, new_ids) for k, v in value.items() if not _volatile(k)}
    if isinstance(value, list):
        return [_norm(v, new_ids) for v in value]
    return value


def _only_in(side: str, other: str, table: str, cols: list[tuple[str, str, bool]]) -> str:
    """The rows of ``side``'s ``table`` that ``other`` lacks, compared on every column.

    A keyed table is read with a join on its primary key (a row counts when its key is new or
    any column differs), which walks the key's index instead of sorting every whole row as
    ``EXCEPT`` does: the same rows, several times faster on wide tables. ``IS NOT`` treats two
    NULLs as equal, as ``EXCEPT`` does."""
    names = [n for n, _t, _pk in cols]
    keys = [n for n, _t, is_pk in cols if is_pk]
    if not keys:
        listed = ", ".join(f'"{n}"' for n in names)
        return (
            f'SELECT {listed} FROM {side}."{table}" EXCEPT SELECT {listed} FROM {other}."{table}"'
        )
    listed = ", ".join(f'a."{n}"' for n in names)
    on = " AND ".join(f'a."{k}" = b."{k}"' for k in keys)
    changed = [f'b."{keys[0]}" IS NULL'] + [
        f'a."{n}" IS NOT b."{n}"' for n in names if n not in keys
    ]
    return (
        f'SELECT {listed} FROM {side}."{table}" AS a LEFT JOIN {other}."{table}" AS b ON {on} '
        f"WHERE {' OR '.join(changed)}"
    )


def take_snapshot(database: Path, template: Path) -> Snapshot:
    """What ``database`` changed against ``template`` (both SQLite files)."""
    c = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        c.execute("ATTACH DATABASE ? AS tpl", (f"file:{template}?mode=ro",))
        raw: dict[str, tuple[list[tuple[str, str, bool]], list[Any], list[Any]]] = {}
        new_ids: dict[str, str] = {}
        for table in _tables(c):
            cols = _columns(c, table)
            added = c.execute(_only_in("main", "tpl", table, cols)).fetchall()
            removed = c.execute(_only_in("tpl", "main", table, cols)).fetchall()
            if not added and not removed:
                continue
            raw[table] = (cols, added, removed)
            pk = [i for i, (_n, _t, is_pk) in enumerate(cols) if is_pk]
            old = {tuple(r[i] for i in pk) for r in removed}
            for row in added:
                key = tuple(row[i] for i in pk)
                if len(pk) == 1 and key not in old and isinstance(row[pk[0]], str):
                    m = _NEW_ID.match(row[pk[0]])
                    new_ids[row[pk[0]]] = f"<new:{m.group(1) if m else table}>"
        for table in _tables(c, ID_ONLY_PREFIXES):
            keys = [n for n, _t, is_pk in _columns(c, table) if is_pk]
            if len(keys) != 1:
                continue
            column = keys[0]
            for (minted,) in c.execute(
                f'SELECT "{column}" FROM main."{table}" EXCEPT SELECT "{column}" FROM tpl."{table}"'
            ):
                m = _NEW_ID.match(minted) if isinstance(minted, str) else None
                if m:
                    new_ids.setdefault(minted, f"<new:{m.group(1)}>")
        tables: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for table, (cols, added, removed) in raw.items():
            tables[table] = {
                "added": _rows(cols, added, new_ids),
                "removed": _rows(cols, removed, new_ids),
            }
        return Snapshot(tables)
    finally:
        c.close()


def _rows(
    cols: list[tuple[str, str, bool]], rows: list[Any], new_ids: dict[str, str]
) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        item: dict[str, Any] = {}
        for (name, ctype, is_pk), value in zip(cols, row, strict=True):
            if _volatile(name) or name == "tenant_id":
                continue
            if ctype in {"DATETIME", "TIMESTAMP", "DATE"}:
                continue
            if is_pk and "INT" in ctype:
                continue  # autoincrement ids differ between worlds
            item[name] = _norm(value, new_ids)
        out.append(item)
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def diff(expected: Snapshot, actual: Snapshot) -> dict[str, Any]:
    """Tables whose changes differ, with the rows only one side has (empty: equal)."""
    out: dict[str, Any] = {}
    for table in sorted(set(expected.tables) | set(actual.tables)):
        e = expected.tables.get(table, {"added": [], "removed": []})
        a = actual.tables.get(table, {"added": [], "removed": []})
        if e == a:
            continue
        entry: dict[str, Any] = {}
        for side in ("added", "removed"):
            ek = [json.dumps(r, sort_keys=True, default=str) for r in e[side]]
            ak = [json.dumps(r, sort_keys=True, default=str) for r in a[side]]
            missing = [json.loads(k) for k in ek if k not in ak]
            extra = [json.loads(k) for k in ak if k not in ek]
            if missing or extra:
                entry[side] = {"expected_only": missing, "actual_only": extra}
        out[table] = entry
    return out


__all__ = ["Snapshot", "diff", "take_snapshot"]
