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
        "captured_amount, customer_id, card_id, device_id, "
        "(SELECT ip FROM pay_devices d WHERE d.id = pay_payments.device_id) "
        f"FROM pay_payments WHERE {' AND '.join(where)} "
        f"ORDER BY {_order(spec, 'amount', 'created_at')}",
        params,
    ).fetchall()
    row = _pick(spec, [r for r in rows if r[0] not in taken])
    pid, amount, currency, state, method, mid, decline, captured, cus, card, dev, ip = row
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
        # The entities the payment carries ("block the device used on pay_…"); "" when absent.
        "customer_id": cus or "",
        "card_id": card or "",
        "device_id": dev or "",
        "ip": ip or "",
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
    if spec.fraud_ring is not None:
        return _graph_customer(c, spec, taken)
    where, params = "", []
    if merchant:
        where = "WHERE id IN (SELECT customer_id FROM pay_payments WHERE merchant_id = ?)"
        params.append(merchant)
    rows = c.execute(
        f"SELECT id, country FROM pay_customers {where} ORDER BY id", params
    ).fetchall()
    row = _pick(spec, [r for r in rows if r[0] not in taken])
    return {"id": row[0], "country": row[1]}


# ----- the fraud engine's demo history (the entity graph) --------------------------------------

_GRAPHS: dict[tuple[str, int, int], list[dict[str, Any]]] = {}
"""Graph candidates per template file (path, mtime, size): simulating takes a second or two."""
_CLEAN_CANDIDATES = 60
"""Genuine customers looked at, in id order (as the risk agent's tests do)."""


def _graph_customer(c: sqlite3.Connection, spec: Bind, taken: set[str]) -> dict[str, Any]:
    """A customer of the fraud engine's demo history, read from its entity graph.

    ``fraud_ring: true``: one member of each planted ring the graph suspects (``ring_*``), with
    the ring's most shared card and device, one of its IPs and its connected accounts.
    ``fraud_ring: false``: a genuine payments customer the graph links to a card, a device and
    an IP, with no ring and no confirmed fraud around it. Rings are in the simulator's order
    (``largest`` / ``smallest``: by connected accounts); genuine customers in id order. The
    merchant filter does not apply: the history spans merchants (investigate with a tenant key).
    """
    database = c.execute("PRAGMA database_list").fetchone()[2]
    found = [
        r
        for r in _graph_candidates(Path(database))
        if r["ring"] == bool(spec.fraud_ring) and r["id"] not in taken
    ]
    if spec.order in ("largest", "smallest"):
        found.sort(key=lambda r: -r["accounts"] if spec.order == "largest" else r["accounts"])
    row = dict(_pick(spec, found))
    row.pop("ring")
    return row


def _graph_candidates(database: Path) -> list[dict[str, Any]]:
    stat = database.stat()
    key = (str(database.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _GRAPHS:
        _GRAPHS[key] = _simulate_graph(database)
    return _GRAPHS[key]


def _simulate_graph(database: Path) -> list[dict[str, Any]]:
    """Replay the demo history the fraud service warms the demo tenant with
    (:class:`tools.fraud.service.FraudHub`) into an entity graph, and pick the candidates."""
    from dataclasses import replace

    import numpy as np

    from cockpit.db.session import Database
    from evals.world import TENANT
    from tools.fraud.features.engine import label_events
    from tools.fraud.features.graph import EntityGraph
    from tools.fraud.features.sequence import to_ms
    from tools.fraud.service import DEMO_SIM
    from tools.fraud.simulator import seed_customers_from, simulate
    from tools.payments.queries import customer_records

    db = Database(f"sqlite:///{database}")
    try:
        with db.tenant_session(TENANT) as s:
            records = customer_records(s)
    finally:
        db.dispose()
    frame = simulate(replace(DEMO_SIM, customers=seed_customers_from(records)))
    graph = EntityGraph()
    labels = sorted((to_ms(ts), cust) for ts, cust in label_events(frame))
    ms_all = np.rint(frame["ts"].to_numpy(dtype=np.float64) * 1000.0).astype(np.int64).tolist()
    li, scratch = 0, list[float]()
    for ms, cust, card, dev, ip in zip(
        ms_all, frame["customer_id"], frame["card_id"], frame["device_id"], frame["ip"], strict=True
    ):
        # Labels count from the first transaction after they arrive, as in the streaming engine.
        while li < len(labels) and labels[li][0] < ms:
            graph.mark_fraud(labels[li][1])
            li += 1
        graph.features(customer=cust, card=card, device=dev, ip=ip, ms=ms, out=scratch)
        scratch.clear()
    countries = {str(r["customer_id"]): str(r.get("country") or "") for r in records}
    ring_rows = frame[frame["customer_id"].astype(str).str.startswith("ring_")]
    members = ring_rows["customer_id"].astype(str).tolist()
    countries.update(zip(members, ring_rows["card_country"].astype(str).tolist(), strict=True))
    rings = sorted(set(members))
    out: list[dict[str, Any]] = []
    seen_rings: set[str] = set()
    for member in rings:
        ring = member.rsplit("_", 1)[0]
        if ring in seen_rings:
            continue
        view = graph.neighbourhood("customer", member)
        shared = sorted(view["shared_devices_or_cards"], key=lambda s: (-s["accounts"], s["id"]))
        cards = [s["id"] for s in shared if s["kind"] == "card"]
        devices = [s["id"] for s in shared if s["kind"] == "device"]
        ips = sorted(n["id"] for n in view["nodes"] if n["kind"] == "ip")
        if not (view["ring_suspected"] and cards and devices and ips):
            continue
        seen_rings.add(ring)
        out.append(
            {
                "ring": True,
                "id": member,
                "country": countries.get(member, ""),
                "ring_id": ring,
                "accounts": view["component_accounts"],
                "card": cards[0],
                "device": devices[0],
                "ip": ips[0],
            }
        )
    labelled = {cust for _ms, cust in labels}  # confirmed fraud, now or by a later chargeback
    for record in records[:_CLEAN_CANDIDATES]:
        cid = str(record["customer_id"])
        view = graph.neighbourhood("customer", cid, hops=1)
        if not view["found"] or view["ring_suspected"] or view["component_known_fraud"]:
            continue
        if cid in labelled or any(n["known_fraud"] for n in view["nodes"]):
            continue
        # Its own card and device (not one a fraudster used on it), and an IP it connected from.
        own = {*record["card_ids"], *record["device_ids"]}
        links: dict[str, str] = {}
        for n in sorted(view["nodes"], key=lambda n: n["id"]):
            if n["hops"] == 1 and (n["kind"] == "ip" or n["id"] in own):
                links.setdefault(n["kind"], n["id"])
        if {"card", "device", "ip"} <= set(links):
            out.append(
                {
                    "ring": False,
                    "id": cid,
                    "country": countries.get(cid, ""),
                    "ring_id": "",
                    "accounts": view["component_accounts"],
                    "card": links["card"],
                    "device": links["device"],
                    "ip": links["ip"],
                }
            )
    return out


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
