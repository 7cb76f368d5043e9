"""API keys are authenticated from a cache, and a revocation still bites.

In the revoking process at once (whichever KeyService revoked it); in another worker on
PostgreSQL as soon as its notification arrives; and, when nobody told a worker, within the
cache's TTL (a fake clock here, no timing). Only admissions are cached: a malformed, unknown,
wrong-secret or revoked key is read (and refused) every time.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from cockpit.db.migrate import upgrade
from cockpit.db.session import Database
from cockpit.errors import AuthError
from cockpit.runtime.notify import notifier_for
from cockpit.tenancy.key_cache import KeyCache
from cockpit.tenancy.keys import KeyService
from cockpit.tenancy.models import ApiKey
from cockpit.tenancy.principal import Principal, Role

ROOT = Path(__file__).resolve().parents[3]
HOUR = 3600.0
"""A TTL no test outlives: only an eviction can make a cached key fail."""


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(migrated_backend_url: str) -> Database:
    database = Database(migrated_backend_url)
    upgrade(database)
    KeyService(database).ensure_tenant("t-a")
    return database


def _code(keys: KeyService, secret: str) -> str:
    with pytest.raises(AuthError) as err:
        keys.authenticate(secret)
    return err.value.code


def test_a_revoke_bites_at_once_in_its_own_process(db: Database) -> None:
    keys = KeyService(db, cache_ttl_s=HOUR)
    issued = keys.create_key("t-a", Role.MERCHANT)
    assert keys.authenticate(issued.secret).key_id == issued.id
    assert issued.id in keys.cache
    keys.revoke(issued.id)
    assert _code(keys, issued.secret) == "revoked_api_key"
    assert issued.id not in keys.cache


def test_a_revoke_through_another_keyservice_of_the_process_evicts_too(db: Database) -> None:
    serving = KeyService(db, cache_ttl_s=HOUR)
    issued = serving.create_key("t-a", Role.ADMIN)
    serving.authenticate(issued.secret)
    KeyService(db).revoke(issued.id, tenant_id="t-a")  # e.g. the CLI, in process
    assert _code(serving, issued.secret) == "revoked_api_key"


def test_an_untold_worker_refuses_a_revoked_key_once_the_ttl_lapses(db: Database) -> None:
    clock = FakeClock()
    worker = KeyService(db, cache_ttl_s=1.0, clock=clock)
    issued = worker.create_key("t-a", Role.PARTNER)
    worker.authenticate(issued.secret)
    # A change the cache never heard of (another process on SQLite, a lost notification).
    with db.system_session() as s:
        s.execute(update(ApiKey).where(ApiKey.id == issued.id).values(revoked_at=ApiKey.created_at))
    clock.now = 0.5
    assert worker.authenticate(issued.secret).key_id == issued.id  # within the bound
    clock.now = 1.0
    assert _code(worker, issued.secret) == "revoked_api_key"


def test_refusals_are_never_cached(db: Database) -> None:
    keys = KeyService(db, cache_ttl_s=HOUR)
    issued = keys.create_key("t-a", Role.MERCHANT)
    key_id, secret = issued.secret.split("_", 2)[1:]
    wrong = f"ck_{key_id}_{'x' * 32}"
    for _ in range(2):
        assert _code(keys, wrong) == "invalid_api_key"
        assert _code(keys, "ck_nope") == "invalid_api_key"
        assert _code(keys, "ck_000000000000_" + "a" * 32) == "invalid_api_key"
    assert len(keys.cache) == 0
    # A cached admission does not admit another secret for the same key id.
    assert keys.authenticate(issued.secret).key_id == issued.id
    assert _code(keys, wrong) == "invalid_api_key"
    assert keys.authenticate(f"ck_{key_id}_{secret}").key_id == issued.id
    keys.revoke(issued.id)
    for _ in range(2):
        assert _code(keys, issued.secret) == "revoked_api_key"
    assert issued.id not in keys.cache


def test_a_read_that_raced_an_eviction_is_not_cached() -> None:
    cache = KeyCache(ttl_s=HOUR)
    principal = Principal("t-a", Role.MERCHANT, "k1", None)
    before = cache.generation()  # an authentication reads the row…
    cache.evict("k1")  # …a revoke commits and evicts…
    cache.put("k1", "d", principal, generation=before)  # …the stale admission is dropped
    assert cache.get("k1", "d") is None
    cache.put("k1", "d", principal, generation=cache.generation())
    assert cache.get("k1", "d") == principal
    assert cache.get("k1", "other digest") is None


def test_the_cache_is_bounded_and_can_be_turned_off() -> None:
    cache = KeyCache(ttl_s=HOUR, max_entries=2)
    for n in range(3):
        cache.put(f"k{n}", "d", Principal("t", Role.ADMIN, f"k{n}", None), generation=0)
    assert len(cache) == 2 and "k0" not in cache
    off = KeyCache(ttl_s=0)
    off.put("k", "d", Principal("t", Role.ADMIN, "k", None), generation=0)
    assert off.get("k", "d") is None


@pytest.mark.postgres
def test_a_revoke_reaches_another_workers_cache(fresh_pg_url: str, tmp_path: Path) -> None:
    """A worker caching a key refuses it once ``cockpit keys revoke`` (another process, its own
    Database and KeyService) has revoked it: only the NOTIFY can tell it (its TTL is an hour)."""
    first, second = Database(fresh_pg_url), Database(fresh_pg_url)
    upgrade(first)
    revoker = KeyService(first)
    revoker.ensure_tenant("t-a")
    issued = revoker.create_key("t-a", Role.MERCHANT)

    async def main() -> str:
        notifier = notifier_for(second.url)
        worker = KeyService(second, cache_ttl_s=HOUR)
        worker.follow_revocations(notifier)
        probes: list[str] = []
        notifier.subscribe("probe:", probes.append)
        await notifier.start()
        try:
            # LISTEN is up once a probe sent from the other database comes back.
            sender = notifier_for(first.url)
            deadline = time.monotonic() + 30
            while not probes:
                assert time.monotonic() < deadline, "the listener never came up"
                with first.system_session() as s:
                    sender.notify_in(s, "probe:up")
                await asyncio.sleep(0.05)
            assert worker.authenticate(issued.secret).key_id == issued.id
            assert issued.id in worker.cache
            revoked = await asyncio.to_thread(_cli_revoke, fresh_pg_url, tmp_path, issued.id)
            assert revoked.returncode == 0, revoked.stderr
            deadline = time.monotonic() + 30
            while issued.id in worker.cache:
                assert time.monotonic() < deadline, "the revocation never reached the worker"
                await asyncio.sleep(0.02)
            return _code(worker, issued.secret)
        finally:
            await notifier.stop()

    try:
        assert asyncio.run(main()) == "revoked_api_key"
    finally:
        first.dispose()
        second.dispose()


def _cli_revoke(url: str, data: Path, key_id: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("COCKPIT_") or k == "COCKPIT_CLOCK_START"
    }
    env |= {"COCKPIT_DATA_DIR": str(data), "COCKPIT_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "cockpit", "keys", "revoke", key_id],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
