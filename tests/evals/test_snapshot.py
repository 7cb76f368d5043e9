"""End-state snapshots read what a world changed against its template, table by table."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from evals.snapshot import take_snapshot

SCHEMA = (
    "CREATE TABLE pay_payments (id TEXT PRIMARY KEY, amount INTEGER, status TEXT, meta TEXT)",
    "CREATE TABLE fraud_blocks (kind TEXT, value TEXT, reason TEXT, PRIMARY KEY (kind, value))",
    "CREATE TABLE pay_notes (body TEXT, weight INTEGER)",
    "CREATE TABLE pay_idempotency (key TEXT PRIMARY KEY, response TEXT)",
)
SEED = (
    ("INSERT INTO pay_payments VALUES (?, ?, ?, ?)", ("pay_old", 100, "captured", None)),
    ("INSERT INTO pay_payments VALUES (?, ?, ?, ?)", ("pay_same", 5, "authorized", '{"a": 1}')),
    ("INSERT INTO pay_payments VALUES (?, ?, ?, ?)", ("pay_gone", 7, "failed", None)),
    ("INSERT INTO pay_payments VALUES (?, ?, ?, ?)", ("pay_typed", 1, "captured", None)),
    ("INSERT INTO fraud_blocks VALUES (?, ?, ?)", ("card", "c1", "ring")),
    ("INSERT INTO fraud_blocks VALUES (?, ?, ?)", ("ip", "1.2.3.4", None)),
    ("INSERT INTO pay_notes VALUES (?, ?)", ("kept", 1)),
    ("INSERT INTO pay_notes VALUES (?, ?)", ("dropped", 2)),
)


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "template.db"
    with sqlite3.connect(path) as c:
        for statement in SCHEMA:
            c.execute(statement)
        for statement, values in SEED:
            c.execute(statement, values)
    return path


def _world(template: Path, *changes: tuple[str, tuple[object, ...]]) -> Path:
    world = template.with_name("world.db")
    shutil.copy(template, world)
    with sqlite3.connect(world) as c:
        for statement, values in changes:
            c.execute(statement, values)
    return world


def test_an_untouched_world_has_an_empty_snapshot(template: Path) -> None:
    assert take_snapshot(_world(template), template).empty


def test_keyed_rows_added_changed_and_removed(template: Path) -> None:
    new = "pay_0123456789abcdef0123"
    world = _world(
        template,
        ("INSERT INTO pay_payments VALUES (?, ?, ?, ?)", (new, 42, "captured", None)),
        ("UPDATE pay_payments SET meta = ? WHERE id = 'pay_old'", (f'{{"refund_of": "{new}"}}',)),
        ("DELETE FROM pay_payments WHERE id = 'pay_gone'", ()),
        # written again with the values it had: not a change
        ("UPDATE pay_payments SET status = 'captured', amount = 1 WHERE id = 'pay_typed'", ()),
        ("UPDATE fraud_blocks SET reason = 'manual' WHERE kind = 'ip'", ()),
        ("INSERT INTO pay_idempotency VALUES (?, ?)", ("k", "{}")),
    )
    tables = take_snapshot(world, template).tables

    assert set(tables) == {"pay_payments", "fraud_blocks"}  # pay_idempotency is skipped
    payments = tables["pay_payments"]
    assert sorted(r["id"] for r in payments["added"]) == ["<new:pay>", "pay_old"]
    assert sorted(r["id"] for r in payments["removed"]) == ["pay_gone", "pay_old"]
    changed = next(r for r in payments["added"] if r["id"] == "pay_old")
    assert changed["meta"] == {"refund_of": "<new:pay>"}
    assert tables["fraud_blocks"] == {
        "added": [{"kind": "ip", "value": "1.2.3.4", "reason": "manual"}],
        "removed": [{"kind": "ip", "value": "1.2.3.4", "reason": None}],
    }


def test_null_and_value_are_different_both_ways(template: Path) -> None:
    world = _world(
        template,
        ("UPDATE pay_payments SET meta = '{}' WHERE id = 'pay_old'", ()),
        ("UPDATE pay_payments SET meta = NULL WHERE id = 'pay_same'", ()),
    )
    payments = take_snapshot(world, template).tables["pay_payments"]
    assert sorted((r["id"], r["meta"]) for r in payments["added"]) == [
        ("pay_old", {}),
        ("pay_same", None),
    ]
    assert sorted((r["id"], r["meta"]) for r in payments["removed"]) == [
        ("pay_old", None),
        ("pay_same", {"a": 1}),
    ]


def test_a_table_without_a_key_is_compared_on_whole_rows(template: Path) -> None:
    world = _world(
        template,
        ("DELETE FROM pay_notes WHERE body = 'dropped'", ()),
        ("INSERT INTO pay_notes VALUES (?, ?)", ("fresh", 3)),
    )
    assert take_snapshot(world, template).tables["pay_notes"] == {
        "added": [{"body": "fresh", "weight": 3}],
        "removed": [{"body": "dropped", "weight": 2}],
    }
