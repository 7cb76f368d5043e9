"""The store service on SQLite and PostgreSQL: scopes never meet, TTLs follow the platform
clock, search filters and matches words, namespaces list with prefix/suffix/depth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cockpit import clock
from cockpit.db.base import Base
from cockpit.db.migrate import upgrade
from cockpit.db.session import Database
from cockpit.errors import NotFound, PayloadTooLarge, ValidationFailed
from cockpit.store import MAX_VALUE_BYTES, ItemStore, StoreScope
from cockpit.tenancy.keys import KeyService

A, B = StoreScope("st-a"), StoreScope("st-b")
A_MER = StoreScope("st-a", "mer_1")


@pytest.fixture
def fixed() -> Iterator[clock.FixedClock]:
    fixed = clock.FixedClock(datetime(2026, 11, 25, 12, tzinfo=UTC))
    previous = clock.install(fixed)
    yield fixed
    clock.install(previous)


@pytest.fixture
def store(migrated_backend_url: str) -> ItemStore:
    db = Database(migrated_backend_url)
    upgrade(db)
    keys = KeyService(db)
    keys.ensure_tenant("st-a")
    keys.ensure_tenant("st-b")
    return ItemStore(db)


def test_the_table_matches_its_migration(backend_url: str) -> None:
    db = Database(backend_url)
    upgrade(db)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if "store_items" in str(d)] == []


def test_tenants_and_merchants_have_separate_stores(store: ItemStore) -> None:
    store.put(A, ["prefs"], "k", {"who": "tenant a"})
    store.put(A_MER, ["prefs"], "k", {"who": "merchant 1"})
    assert store.get(A, ["prefs"], "k")["value"] == {"who": "tenant a"}
    assert store.get(A_MER, ["prefs"], "k")["value"] == {"who": "merchant 1"}
    with pytest.raises(NotFound) as err:
        store.get(B, ["prefs"], "k")
    assert err.value.code == "item_not_found"
    assert store.search(B, []) == [] and store.list_namespaces(B) == []
    assert [i["value"]["who"] for i in store.search(A_MER, [])] == ["merchant 1"]
    store.delete(B, ["prefs"], "k")  # another tenant's delete touches nothing
    assert store.get(A, ["prefs"], "k")["value"]["who"] == "tenant a"


def test_put_replaces_and_keeps_created_at(store: ItemStore, fixed: clock.FixedClock) -> None:
    store.put(A, ["a", "b"], "k", {"v": 1})
    first = store.get(A, ["a", "b"], "k")
    fixed.advance(minutes=5)
    store.put(A, ["a", "b"], "k", {"v": 2})
    second = store.get(A, ["a", "b"], "k")
    assert second["value"] == {"v": 2} and second["namespace"] == ["a", "b"]
    assert second["created_at"] == first["created_at"]
    assert second["updated_at"] > first["updated_at"]
    store.delete(A, ["a", "b"], "k")
    with pytest.raises(NotFound):
        store.get(A, ["a", "b"], "k")


def test_ttl_runs_on_the_platform_clock_and_reads_refresh_it(
    store: ItemStore, fixed: clock.FixedClock
) -> None:
    store.put(A, ["s"], "short", {"v": 1}, ttl=10)
    store.put(A, ["s"], "kept", {"v": 2}, ttl=10)
    fixed.advance(minutes=8)
    store.get(A, ["s"], "kept")  # restarts its ten minutes
    store.get(A, ["s"], "short", refresh_ttl=False)
    fixed.advance(minutes=3)
    with pytest.raises(NotFound):
        store.get(A, ["s"], "short")
    assert [i["key"] for i in store.search(A, ["s"])] == ["kept"]
    fixed.advance(minutes=11)
    assert store.search(A, ["s"]) == [] and store.list_namespaces(A) == []


def test_search_filters_and_matches_words(store: ItemStore, fixed: clock.FixedClock) -> None:
    store.put(A, ["notes", "m1"], "1", {"kind": "refund", "amount": 50, "text": "late delivery"})
    fixed.advance(seconds=1)
    store.put(A, ["notes", "m2"], "2", {"kind": "refund", "amount": 500, "text": "fraud ring"})
    fixed.advance(seconds=1)
    store.put(A, ["notes", "m2"], "3", {"kind": "dispute", "text": "fraud"}, index=False)
    store.put(A, ["notesx"], "4", {"kind": "refund"})
    keys = [i["key"] for i in store.search(A, ["notes"], filter={"kind": "refund"})]
    assert keys == ["2", "1"]  # newest first; "notesx" is not under "notes"
    big = store.search(A, ["notes"], filter={"amount": {"$gte": 100}})
    assert [i["key"] for i in big] == ["2"]
    found = store.search(A, [], query="fraud delivery")
    assert [(i["key"], i["score"]) for i in found] == [("2", 0.5), ("1", 0.5)]
    assert [i["key"] for i in store.search(A, [], query="late delivery")] == ["1"]
    assert "3" not in [i["key"] for i in found]  # index=False: not searchable by words
    assert [i["key"] for i in store.search(A, ["notes"], limit=1, offset=1)] == ["2"]
    with pytest.raises(ValidationFailed) as err:
        store.search(A, [], filter={"amount": {"$near": 1}})
    assert err.value.param == "filter.amount"


def test_index_fields_limit_what_words_match(store: ItemStore) -> None:
    store.put(A, ["docs"], "a", {"title": "chargeback guide", "body": "refund"}, index=["title"])
    assert [i["key"] for i in store.search(A, ["docs"], query="chargeback")] == ["a"]
    assert store.search(A, ["docs"], query="refund") == []


def test_namespaces_by_prefix_suffix_and_depth(store: ItemStore) -> None:
    for ns in (["users", "u1", "prefs"], ["users", "u2", "prefs"], ["users", "u2", "memory"]):
        store.put(A, ns, "k", {"x": 1})
    store.put(A, ["orgs", "o1"], "k", {"x": 1})
    assert store.list_namespaces(A, prefix=["users"], max_depth=2) == [
        ["users", "u1"],
        ["users", "u2"],
    ]
    assert store.list_namespaces(A, suffix=["prefs"]) == [
        ["users", "u1", "prefs"],
        ["users", "u2", "prefs"],
    ]
    assert store.list_namespaces(A, prefix=["users", "*", "memory"]) == [["users", "u2", "memory"]]
    assert store.list_namespaces(A, limit=1, offset=1) == [["users", "u1", "prefs"]]


@pytest.mark.parametrize(
    ("namespace", "key", "value", "ttl", "code", "param"),
    [
        ([], "k", {}, None, "invalid_namespace", "namespace"),
        (["a.b"], "k", {}, None, "invalid_namespace", "namespace.0"),
        (["a", ""], "k", {}, None, "invalid_namespace", "namespace.1"),
        (["a"], "", {}, None, "invalid_key", "key"),
        (["a"], "k", [1], None, "invalid_value", "value"),
        (["a"], "k", {}, 0, "invalid_ttl", "ttl"),
    ],
)
def test_bad_items_are_refused_with_the_field(
    store: ItemStore,
    namespace: list[str],
    key: str,
    value: object,
    ttl: object,
    code: str,
    param: str,
) -> None:
    with pytest.raises(ValidationFailed) as err:
        store.put(A, namespace, key, value, ttl=ttl)
    assert (err.value.code, err.value.param) == (code, param)


def test_a_value_over_the_limit_is_413(store: ItemStore) -> None:
    with pytest.raises(PayloadTooLarge) as err:
        store.put(A, ["a"], "k", {"blob": "x" * MAX_VALUE_BYTES})
    assert err.value.code == "value_too_large" and err.value.status == 413
    assert store.search(A, []) == []
