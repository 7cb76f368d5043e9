"""End-state assertions, read from the world's services' own tables after the run."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.bind import Bound, substitute
from evals.snapshot import Snapshot
from evals.task import (
    Approvals,
    Assertion,
    BalanceDelta,
    CreditDecisions,
    DisputeStatus,
    EntityBlocked,
    LedgerBalanced,
    NoWrites,
    PaymentState,
    RefundTotal,
    StrategyLive,
)


@dataclass(frozen=True, slots=True)
class AssertionResult:
    kind: str
    ok: bool
    detail: str


def _one(c: sqlite3.Connection, sql: str, *params: Any) -> Any:
    row = c.execute(sql, params).fetchone()
    return None if row is None else row[0]


def _balance(c: sqlite3.Connection, schema: str, account: str, currency: str) -> int:
    value = _one(
        c,
        f"SELECT balance FROM {schema}.pay_balances WHERE account = ? AND currency = ?",
        account,
        currency,
    )
    return int(value or 0)


def _check(c: sqlite3.Connection, a: Assertion, snapshot: Snapshot) -> tuple[bool, str]:
    if isinstance(a, RefundTotal):
        got = _one(
            c,
            "SELECT COALESCE(SUM(amount), 0) FROM pay_refunds WHERE payment_id = ? "
            "AND status = 'SUCCESS'",
            a.payment,
        )
        return int(got) == a.equals, f"refunded {got} on {a.payment}, expected {a.equals}"
    if isinstance(a, PaymentState):
        got = _one(c, "SELECT state FROM pay_payments WHERE id = ?", a.payment)
        return got == a.equals.upper(), f"{a.payment} is {got}, expected {a.equals}"
    if isinstance(a, DisputeStatus):
        got = _one(c, "SELECT status FROM pay_disputes WHERE id = ?", a.dispute)
        return got == a.equals.upper(), f"{a.dispute} is {got}, expected {a.equals}"
    if isinstance(a, EntityBlocked):
        got = _one(
            c,
            "SELECT status FROM fraud_entity_blocks WHERE entity_kind = ? AND entity_id = ?",
            a.entity_kind,
            a.entity_id,
        )
        blocked = str(got or "").lower() == "blocked"
        return blocked == a.blocked, f"{a.entity_kind} {a.entity_id} status {got}"
    if isinstance(a, LedgerBalanced):
        off = c.execute(
            "SELECT currency, SUM(balance) FROM pay_balances GROUP BY currency "
            "HAVING SUM(balance) != 0"
        ).fetchall()
        return not off, f"unbalanced currencies: {off}" if off else "every currency sums to 0"
    if isinstance(a, BalanceDelta):
        delta = _balance(c, "main", a.account, a.currency) - _balance(
            c, "tpl", a.account, a.currency
        )
        return delta == a.equals, f"{a.account} {a.currency} moved {delta}, expected {a.equals}"
    if isinstance(a, Approvals):
        where, params = ["1=1"], []
        if a.tool:
            where.append("tool = ?")
            params.append(a.tool)
        if a.status:
            where.append("status = ?")
            params.append(a.status)
        got = _one(c, f"SELECT COUNT(*) FROM approvals WHERE {' AND '.join(where)}", *params)
        return got == a.count, f"{got} approvals ({a.tool or 'any tool'}, {a.status or 'any'})"
    if isinstance(a, CreditDecisions):
        cond, params = ("AND outcome = ?", [a.outcome]) if a.outcome else ("", [])
        now = _one(c, f"SELECT COUNT(*) FROM main.credit_decisions WHERE 1=1 {cond}", *params)
        before = _one(c, f"SELECT COUNT(*) FROM tpl.credit_decisions WHERE 1=1 {cond}", *params)
        got = int(now) - int(before)
        return got == a.count, f"{got} new credit decisions ({a.outcome or 'any outcome'})"
    if isinstance(a, StrategyLive):
        got = _one(
            c,
            "SELECT v.version FROM credit_deployments d JOIN credit_strategy_versions v "
            "ON v.id = d.champion_id WHERE d.name = ? AND d.rolled_back_at IS NULL "
            "ORDER BY d.created_at DESC LIMIT 1",
            a.strategy,
        )
        return got == a.version, f"{a.strategy} live version {got}, expected {a.version}"
    if isinstance(a, NoWrites):
        return snapshot.empty, "no domain writes" if snapshot.empty else "the world was changed"
    raise AssertionError(f"unknown assertion {a!r}")  # pragma: no cover - the union is closed


def check_assertions(
    database: Path,
    template: Path,
    assertions: list[Assertion],
    *,
    bound: Bound,
    snapshot: Snapshot,
    skip: frozenset[str] = frozenset(),
) -> list[AssertionResult]:
    """Each assertion (placeholders filled) against the world, with a readable detail;
    ``skip`` names kinds that do not apply (the gold replay records no approvals)."""
    c = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        c.execute("ATTACH DATABASE ? AS tpl", (f"file:{template}?mode=ro",))
        out = []
        for raw in assertions:
            if raw.kind in skip:
                continue
            filled = type(raw).model_validate(substitute(raw.model_dump(), bound))
            ok, detail = _check(c, filled, snapshot)
            out.append(AssertionResult(filled.kind, ok, detail))
        return out
    finally:
        c.close()


__all__ = ["AssertionResult", "check_assertions"]
