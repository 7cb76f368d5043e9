"""Migrations run under a lock: N workers starting together on a fresh database migrate it once.

The race is real only across processes, so the first test starts three interpreters and
releases them together (each says "ready" once imported and connected, then waits for "go"
on stdin). The lock tests hold the lock themselves and watch ``upgrade`` queue behind it.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from alembic.script import ScriptDirectory

from cockpit.app import DEMO_TENANT, PLATFORM_TENANT
from cockpit.config import Settings
from cockpit.db import migrate
from cockpit.db.migrate import (
    MIGRATION_LOCK_KEY,
    alembic_config,
    current_heads,
    expected_heads,
    sqlite_lock_path,
    upgrade,
)
from cockpit.db.session import Database

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3

_WORKER = """
import logging, sys
from cockpit.db.migrate import upgrade
from cockpit.db.session import Database

logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(message)s")
logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)
db = Database(sys.argv[1])
with db.engine.connect():
    pass
print("ready", flush=True)
sys.stdin.readline()
upgrade(db)
print("done", flush=True)
"""


_SERVE_WORKER = """
import sys
from cockpit.app import prepare
from cockpit.config import Settings

settings = Settings(database_url=sys.argv[1], data_dir=sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
_db, _keys, created = prepare(settings)
print("done", *sorted(created), flush=True)
"""


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _wait_for(condition: Callable[[], bool], what: str, *, within: float = 60.0) -> None:
    """Poll ``condition`` until it holds; fail (not hang) after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.05)


def _revision_count(db: Database) -> int:
    return sum(1 for _ in ScriptDirectory.from_config(alembic_config(db)).walk_revisions())


def _upgrade_in_thread(db: Database) -> tuple[threading.Thread, list[BaseException]]:
    """``upgrade(db)`` started in a thread; the list collects what it raised."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            upgrade(db)
        except BaseException as exc:  # the test asserts on it
            errors.append(exc)

    worker = threading.Thread(target=run, name="migrate")
    worker.start()
    return worker, errors


def _run_together(script: str, argvs: list[list[str]]) -> list[tuple[str, str]]:
    """Run ``script`` once per argv, released at the same moment; each must exit 0.

    Returns each process's (stdout, stderr)."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, *argv],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            said = proc.stdout.readline().strip()
            if said != "ready":
                _, err = proc.communicate(timeout=60)
                pytest.fail(f"a worker said {said!r}, exit {proc.returncode}:\n{err[-3000:]}")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [proc.communicate(timeout=240) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err[-3000:]
        assert out.strip().startswith("done"), out
    return results


@pytest.mark.slow
def test_workers_starting_together_migrate_once(backend_url: str) -> None:
    results = _run_together(_WORKER, [[backend_url]] * WORKERS)
    db = Database(backend_url)
    try:
        assert current_heads(db) == expected_heads(db)
        applied = sum(err.count("Running upgrade") for _, err in results)
        # Every revision ran exactly once across the three workers: the other two found
        # the schema current when the lock let them in.
        assert applied == _revision_count(db)
        assert sum("Running upgrade" in err for _, err in results) == 1
    finally:
        db.dispose()


@pytest.mark.postgres
def test_upgrade_waits_for_the_advisory_lock(fresh_pg_url: str) -> None:
    db = Database(fresh_pg_url)

    high, low = MIGRATION_LOCK_KEY >> 32, MIGRATION_LOCK_KEY & 0xFFFFFFFF
    with psycopg.connect(_psycopg_url(fresh_pg_url), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        worker, errors = _upgrade_in_thread(db)

        def queued() -> bool:
            row = holder.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND classid = %s AND objid = %s AND pid <> pg_backend_pid()",
                (high, low),
            ).fetchone()
            return bool(row and row[0] == 1)

        _wait_for(queued, "upgrade to queue on the migration lock")
        row = holder.execute("SELECT to_regclass('alembic_version')").fetchone()
        assert row == (None,), "upgrade ran while another session held the lock"
        assert worker.is_alive() and not errors
        holder.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
        worker.join(timeout=240)
        assert not worker.is_alive()
        assert not errors, errors
        assert current_heads(db) == expected_heads(db)
        # and the worker let go of it: this session can take it again at once
        row = holder.execute("SELECT pg_try_advisory_lock(%s)", (MIGRATION_LOCK_KEY,)).fetchone()
        assert row == (True,)
    db.dispose()


@pytest.mark.postgres
def test_failed_upgrade_releases_the_lock(
    fresh_pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("migration script failed")

    monkeypatch.setattr(command, "upgrade", broken)
    db = Database(fresh_pg_url)
    with pytest.raises(RuntimeError, match="migration script failed"):
        upgrade(db)
    with psycopg.connect(_psycopg_url(fresh_pg_url), autocommit=True) as other:
        row = other.execute("SELECT pg_try_advisory_lock(%s)", (MIGRATION_LOCK_KEY,)).fetchone()
        assert row == (True,)
    db.dispose()


def test_sqlite_upgrade_waits_for_the_file_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/cockpit.db"
    lock_path = sqlite_lock_path(url)
    assert lock_path == tmp_path / "cockpit.db.migrate.lock"
    reached = threading.Event()
    real_flock = migrate._flock

    def flock(fd: int) -> None:
        reached.set()
        real_flock(fd)

    monkeypatch.setattr(migrate, "_flock", flock)
    db = Database(url)

    with lock_path.open("a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        worker, errors = _upgrade_in_thread(db)
        assert reached.wait(timeout=60)
        assert current_heads(db) == set(), "upgrade ran while another process held the lock"
        assert worker.is_alive() and not errors
        fcntl.flock(held.fileno(), fcntl.LOCK_UN)
    worker.join(timeout=240)
    assert not worker.is_alive()
    assert not errors, errors
    assert current_heads(db) == expected_heads(db)
    db.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///file:mem?mode=memory&cache=shared&uri=true", None),
        ("sqlite:////var/lib/cockpit/cockpit.db", Path("/var/lib/cockpit/cockpit.db.migrate.lock")),
        ("sqlite:///data/c.db?timeout=5", Path("data/c.db.migrate.lock")),
    ],
)
def test_sqlite_lock_path(url: str, expected: Path | None) -> None:
    assert sqlite_lock_path(url) == expected


@pytest.mark.slow
@pytest.mark.postgres
def test_serve_workers_starting_together_bootstrap_once(fresh_pg_url: str, tmp_path: Path) -> None:
    """What ``cockpit serve`` does before it listens (migrate, bootstrap keys and tenants), by
    three workers at once on a fresh database: none fails, one platform admin key is made."""
    argvs = [[fresh_pg_url, str(tmp_path / f"worker{n}")] for n in range(WORKERS)]
    results = _run_together(_SERVE_WORKER, argvs)
    created = [out.split()[1:] for out, _ in results]
    assert sorted("admin" in made for made in created) == [False, False, True]
    assert all("demo" in made for made in created)  # each data dir gets its demo key
    with psycopg.connect(_psycopg_url(fresh_pg_url)) as conn:
        admins = conn.execute(
            "SELECT count(*) FROM api_keys WHERE tenant_id = %s AND role = 'admin'",
            (PLATFORM_TENANT,),
        ).fetchone()
        demo = conn.execute("SELECT count(*) FROM tenants WHERE id = %s", (DEMO_TENANT,))
        assert demo.fetchone() == (1,)
    assert admins == (1,)


@pytest.mark.postgres
def test_bootstrap_runs_under_the_migration_lock(
    fresh_pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cockpit.app as app_module

    held: list[bool] = []
    real_bootstrap = app_module.bootstrap

    def bootstrap(settings: Settings, db: Database, keys: Any) -> dict[str, str]:
        with psycopg.connect(_psycopg_url(fresh_pg_url), autocommit=True) as probe:
            row = probe.execute("SELECT pg_try_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
            held.append(not row.fetchone()[0])
        return real_bootstrap(settings, db, keys)

    monkeypatch.setattr(app_module, "bootstrap", bootstrap)
    db, _keys, created = app_module.prepare(Settings(database_url=fresh_pg_url, data_dir=tmp_path))
    db.dispose()
    assert held == [True], "another session could take the lock while bootstrapping"
    assert "admin" in created
