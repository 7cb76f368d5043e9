"""Engine and sessions. A session is either tenant-scoped or explicitly a system session.

A tenant session adds ``WHERE tenant_id = :tenant`` to every ORM SELECT of a
:class:`~cockpit.db.base.TenantScoped` entity (``with_loader_criteria``) and
stamps ``tenant_id`` on every new row, refusing rows of another tenant. A
system session refuses to query tenant-scoped entities at all, so forgetting
the tenant is an error, not a leak.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from cockpit.db.base import TenantScoped
from cockpit.errors import InternalError

_TENANT = "cockpit_tenant_id"
_SYSTEM = "cockpit_system"
IDLE_PING_S = 10.0
"""A pooled PostgreSQL connection that sat idle longer than this is pinged before it is used."""
RECYCLE_S = 1800
"""A PostgreSQL connection older than this is closed and replaced at its next checkout."""


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # No pool_pre_ping: it cost a round trip on every checkout, i.e. on every transaction.
    engine = create_engine(url, pool_size=10, max_overflow=10, pool_recycle=RECYCLE_S)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only if it sat idle for :data:`IDLE_PING_S`.

    A connection goes stale while it waits in the pool (a server restart, a proxy's idle
    timeout), so that is when it is checked; a dead one raises ``DisconnectionError`` and the
    pool retries with a fresh connection. A connection in steady use is not pinged: if the
    server dies under it, the statement fails once and SQLAlchemy's disconnect handling
    invalidates it and every older pooled connection, so the next checkouts reconnect.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["cockpit_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("cockpit_idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError("a pooled connection went away while idle") from exc


class Database:
    """Holds the engine and hands out scoped sessions."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def tenant_session(self, tenant_id: str) -> Iterator[Session]:
        """A transaction scoped to one tenant; commits on success, rolls back on error."""
        if not tenant_id:
            raise InternalError("tenant_session needs a tenant id", code="tenant_missing")
        with self._factory() as session:
            session.info[_TENANT] = tenant_id
            with session.begin():
                yield session

    @contextmanager
    def system_session(self) -> Iterator[Session]:
        """A transaction for platform tables (tenants, keys); tenant data is refused."""
        with self._factory() as session:
            session.info[_SYSTEM] = True
            with session.begin():
                yield session

    def dispose(self) -> None:
        self.engine.dispose()


def session_tenant(session: Session) -> str:
    """The tenant a scoped session belongs to."""
    tenant = session.info.get(_TENANT)
    if not tenant:
        raise InternalError("not a tenant session", code="tenant_missing")
    return str(tenant)


def _touches_tenant_data(state: ORMExecuteState) -> bool:
    return any(issubclass(mapper.class_, TenantScoped) for mapper in state.all_mappers)


@event.listens_for(Session, "do_orm_execute")
def _scope_queries(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    tenant = state.session.info.get(_TENANT)
    if tenant is None:
        if _touches_tenant_data(state):
            raise InternalError(
                "tenant-scoped table queried without a tenant", code="unscoped_query"
            )
        return
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.tenant_id == tenant,
            include_aliases=True,
        )
    )


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, _ctx: Any, _instances: Any) -> None:
    tenant = session.info.get(_TENANT)
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantScoped):
            continue
        if tenant is None:
            raise InternalError("tenant-scoped row written without a tenant", code="unscoped_write")
        current = getattr(obj, "tenant_id", None)
        if current is None:
            obj.tenant_id = tenant
        elif current != tenant:
            raise InternalError("row belongs to another tenant", code="cross_tenant_write")


__all__ = ["Database", "make_engine", "session_tenant"]
