"""Core statements compiled once per dialect and run on the driver's cursor (prepared style).

Executing a Core construct pays on every call for its cache key, the parameter
set-up, the type processing and the result set-up; ``exec_driver_sql`` still pays
for the result set-up and its events. On the payment hot path either cost more CPU
than SQLite's own work. A :class:`Prepared` statement is compiled the first time a
dialect runs it. After that, a call runs each value through its column type's own
bind processor, so the driver gets the values Core would send, and executes the
fixed SQL on a cursor of the connection's own DB-API connection, inside the
caller's transaction. Driver errors are wrapped as Core wraps them
(``IntegrityError`` and ``OperationalError`` still reach the retries in
:mod:`tools.payments.tx`), and a lost connection is invalidated. Selected columns
go through their types' result processors, so rows read back as Core returns them.

No engine events fire for these statements (Cockpit listens to none). SQL text is
fixed when the statement is compiled and never built from values; statements with
expanding (``IN``) parameters are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

from cockpit.errors import InternalError

Processor = Callable[[Any], Any] | None
Params = tuple[Any, ...] | dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Plan:
    """One statement compiled for one dialect."""

    sql: str
    names: tuple[str, ...]
    """Bind names in the order the driver takes them (all names, for named paramstyles)."""
    positional: bool
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]
    """``(position, bind processor)`` of the values that need processing."""
    fixed: Mapping[str, Any]
    """Values the statement carries itself (a comparison with a constant binds one)."""
    results: tuple[Processor, ...]
    """One result processor per selected column (empty for DML)."""

    def params(self, values: Mapping[str, Any]) -> Params:
        """The driver's parameters for ``values`` (keyed by bind name), processed."""
        if self.fixed:
            values = {**self.fixed, **values}
        out = [values[name] for name in self.names]
        for position, process in self.processors:
            out[position] = process(out[position])
        return tuple(out) if self.positional else dict(zip(self.names, out, strict=True))


_INSTANTS: dict[tuple[str, str, TypeEngine[Any]], Processor] = {}


def _bind_processor(type_: TypeEngine[Any], dialect: Dialect) -> Processor:
    """The type's bind processor; for instants, one that remembers recent values.

    Formatting a datetime for SQLite costs ~4 µs, and a payment binds the same instant
    into a dozen columns across its statements: the processor is pure, so statements
    of one dialect share a small memo of its results per type.
    """
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None or not _is_instant(type_):
        return process
    key = (dialect.name, dialect.driver, type_)
    if key not in _INSTANTS:
        _INSTANTS[key] = lru_cache(maxsize=64)(process)
    return _INSTANTS[key]


def _is_instant(type_: TypeEngine[Any]) -> bool:
    try:
        return issubclass(getattr(type_, "impl_instance", type_).python_type, datetime)
    except NotImplementedError:
        return False


def _compile(statement: ClauseElement, dialect: Dialect) -> _Plan:
    compiled = statement.compile(dialect=dialect)
    if not isinstance(compiled, SQLCompiler) or compiled.post_compile_params:
        raise InternalError("statement cannot be prepared", code="statement_not_preparable")
    binds = {name: bind for bind, name in compiled.bind_names.items()}
    if compiled.escaped_bind_names:
        raise InternalError("bind names need escaping", code="statement_not_preparable")
    positional = bool(dialect.positional)
    names = tuple(compiled.positiontup or ()) if positional else tuple(binds)
    processors = tuple(
        (position, process)
        for position, name in enumerate(names)
        if (process := _bind_processor(binds[name].type, dialect)) is not None
    )
    fixed = {name: bind.effective_value for name, bind in binds.items() if not bind.required}
    results = tuple(
        col.type.dialect_impl(dialect).result_processor(dialect, None)
        for col in getattr(statement, "selected_columns", ())
    )
    return _Plan(compiled.string, names, positional, processors, fixed, results)


class Prepared:
    """A Core statement run with :meth:`Connection.exec_driver_sql`, compiled once per dialect."""

    __slots__ = ("_plans", "statement")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._plans: dict[tuple[str, str], _Plan] = {}

    def _plan(self, conn: Connection) -> _Plan:
        dialect = conn.dialect
        key = (dialect.name, dialect.driver)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _compile(self.statement, dialect)
        return plan

    def execute(self, conn: Connection, values: Mapping[str, Any]) -> int:
        """Run once with ``values``; returns the row count."""
        plan = self._plan(conn)
        cursor = _run(conn, plan.sql, plan.params(values), many=False)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def execute_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per row in one driver call (``executemany``)."""
        if not rows:
            return
        plan = self._plan(conn)
        if len(rows) == 1:
            _run(conn, plan.sql, plan.params(rows[0]), many=False).close()
            return
        params = [plan.params(row) for row in rows]
        _run(conn, plan.sql, params, many=True).close()

    def rows(self, conn: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row the statement selects, its values processed by their column types."""
        plan = self._plan(conn)
        cursor = _run(conn, plan.sql, plan.params(values), many=False)
        try:
            raw = cursor.fetchall()
        finally:
            cursor.close()
        if not any(plan.results):
            return [tuple(row) for row in raw]
        return [
            tuple(
                value if process is None else process(value)
                for value, process in zip(row, plan.results, strict=True)
            )
            for row in raw
        ]

    def first(self, conn: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first selected row, or None."""
        found = self.rows(conn, values)
        return found[0] if found else None


def _run(conn: Connection, sql: str, params: Any, *, many: bool) -> Any:
    """Execute on a cursor of ``conn``'s DB-API connection (in its transaction); driver
    errors are raised as SQLAlchemy's wrappers, and a lost connection is invalidated."""
    cursor = conn.connection.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except conn.dialect.loaded_dbapi.Error as err:
        cursor.close()
        raise _wrapped(conn, err, sql, params, many=many) from err
    return cursor


def _wrapped(conn: Connection, err: Any, sql: str | None, params: Any, *, many: bool) -> Any:
    """``err`` as SQLAlchemy raises it (``IntegrityError``, ``OperationalError``, …); the
    connection is invalidated when the error says it was lost."""
    lost = conn.dialect.is_disconnect(err, conn.connection.dbapi_connection, None)
    if lost:
        conn.invalidate(err)
    return DBAPIError.instance(
        sql,
        params,
        err,
        conn.dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=conn.dialect,
        ismulti=many,
    )


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """Send the statements run inside to the server without waiting for each answer, where
    the driver can (psycopg's pipeline mode): a payment's six writes cost one round trip
    on PostgreSQL instead of six. A statement's error is raised when the block ends at
    the latest, wrapped like any other; the transaction is then failed and rolls back.
    Only writes belong inside (their results are not read). Elsewhere: no change.
    """
    raw = conn.connection.dbapi_connection
    if conn.dialect.driver != "psycopg" or raw is None:
        yield
        return
    try:
        with raw.pipeline():  # type: ignore[attr-defined]
            yield
    except conn.dialect.loaded_dbapi.Error as err:
        raise _wrapped(conn, err, None, None, many=False) from err


def insert_into(table: Table, columns: Sequence[str]) -> Prepared:
    """``INSERT INTO table (columns) VALUES (...)``: each value bound by its column name.

    The columns are named, not taken from the table: a column left out (an autoincrement
    id) gets its default from the database, and nothing is fetched back (``inline``).
    """
    values: dict[str, Any] = {name: bindparam(name) for name in columns}
    return Prepared(table.insert().values(values).inline())


__all__ = ["Prepared", "insert_into", "pipelined"]
