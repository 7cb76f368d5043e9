"""PostgreSQL connection pool: no ping per checkout, and still no failure from a stale connection.

A connection that sat idle is pinged before use and replaced when dead; one in steady use is not
pinged, and a server that drops it mid-use fails one statement, after which the pool reconnects.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from cockpit.db import session
from cockpit.db.session import make_engine


@pytest.fixture
def engine(fresh_pg_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_pg_url)
    yield engine
    engine.dispose()


def _pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(url: str, pid: int) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def _count_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    pings: list[Any] = []
    real = engine.dialect.do_ping

    def ping(dbapi_conn: Any) -> bool:
        pings.append(dbapi_conn)
        return real(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_ping", ping)
    return pings


@pytest.mark.postgres
def test_a_connection_in_use_is_not_pinged(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pings = _count_pings(engine, monkeypatch)
    pids = {_pid(engine) for _ in range(20)}
    assert len(pids) == 1 and pings == []


@pytest.mark.postgres
def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    engine: Engine, fresh_pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _count_pings(engine, monkeypatch)
    first = _pid(engine)
    _terminate(fresh_pg_url, first)
    monkeypatch.setattr(session, "IDLE_PING_S", 0.0)  # it has now been idle "long enough"
    second = _pid(engine)  # no error: the dead connection was found before use
    assert second != first and len(pings) >= 1


@pytest.mark.postgres
def test_a_connection_dropped_while_in_steady_use_fails_once_then_reconnects(
    engine: Engine, fresh_pg_url: str
) -> None:
    first = _pid(engine)
    _terminate(fresh_pg_url, first)
    with pytest.raises(DBAPIError) as err:
        _pid(engine)
    assert err.value.connection_invalidated
    assert _pid(engine) not in (first, None)
