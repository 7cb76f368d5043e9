"""Shared fixtures: database backends (SQLite always, PostgreSQL when reachable — required in CI)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from cockpit.clock import StartedClock, install, parse_instant

#: Every test runs on a clock that starts at this instant: seeded worlds, deadlines and "last N
#: days" windows mean the same on any calendar day. Subprocesses (servers) inherit it too.
TEST_CLOCK_START = "2026-11-25T12:00:00+00:00"
os.environ.setdefault("COCKPIT_CLOCK_START", TEST_CLOCK_START)
install(StartedClock(parse_instant(os.environ["COCKPIT_CLOCK_START"])))

PG_BASE = os.environ.get(
    "COCKPIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _pg_admin_url() -> str:
    return PG_BASE.rsplit("/", 1)[0] + "/postgres"


def pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(_pg_admin_url(), connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI but is not reachable at " + _pg_admin_url())
        pytest.skip("PostgreSQL not reachable (set COCKPIT_TEST_POSTGRES_URL); runs in CI")
    import psycopg

    name = f"cockpit_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_BASE.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture
def fresh_pg_url(pg_database: str) -> Iterator[str]:
    """A PostgreSQL database that is empty for this test (its own database)."""
    import psycopg

    name = f"cockpit_f_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_BASE.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """One app database per module and backend: None (the app's SQLite file) or a PostgreSQL
    database of this module's own (the session's is shared with other modules)."""
    if request.param == "sqlite":
        yield None
        return
    import psycopg

    request.getfixturevalue("pg_database")  # skips (or fails in CI) without PostgreSQL
    name = f"cockpit_m_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_BASE.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(params=["sqlite", "postgres"])
def backend_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    """The same test against SQLite and PostgreSQL (each test gets an empty database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/cockpit.db"
    url: str = request.getfixturevalue("fresh_pg_url")
    return url
