"""The PostgreSQL checkpointer's own migrations run under a lock: workers starting together on a
fresh database would otherwise build its indexes at once and deadlock (seen in CI)."""

from __future__ import annotations

import asyncio
import threading
import time

import psycopg
import pytest

from cockpit.runtime.checkpoint import SETUP_LOCK_KEY, open_checkpointer


def _opened(url: str, errors: list[BaseException]) -> threading.Thread:
    async def main() -> None:
        async with open_checkpointer(url):
            pass

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # the test asserts on it
            errors.append(exc)

    worker = threading.Thread(target=run, name="checkpointer")
    worker.start()
    return worker


@pytest.mark.postgres
def test_setup_waits_for_the_lock_and_releases_it(fresh_pg_url: str) -> None:
    url = fresh_pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (SETUP_LOCK_KEY,))
        errors: list[BaseException] = []
        worker = _opened(url, errors)
        deadline = time.monotonic() + 60
        while True:
            row = holder.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND query LIKE %s",
                ("%pg_try_advisory_lock%",),
            ).fetchone()
            if row == (1,):
                break
            assert time.monotonic() < deadline, "setup never asked for the lock"
            time.sleep(0.05)
        time.sleep(0.5)  # several more attempts, all refused
        tables = holder.execute("SELECT to_regclass('checkpoints')").fetchone()
        assert tables == (None,), "setup ran while another session held the lock"
        holder.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK_KEY,))
        worker.join(timeout=120)
        assert not worker.is_alive() and not errors, errors
        assert holder.execute("SELECT to_regclass('checkpoints')").fetchone() == ("checkpoints",)
        row = holder.execute("SELECT pg_try_advisory_lock(%s)", (SETUP_LOCK_KEY,)).fetchone()
        assert row == (True,), "the checkpointer kept the lock after setup"


@pytest.mark.postgres
def test_workers_opening_together_all_set_up(fresh_pg_url: str) -> None:
    errors: list[BaseException] = []
    workers = [_opened(fresh_pg_url, errors) for _ in range(3)]
    for worker in workers:
        worker.join(timeout=120)
    assert not any(w.is_alive() for w in workers) and not errors, errors
