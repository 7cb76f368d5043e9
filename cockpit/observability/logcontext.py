"""Who a log line is about: request id, run id, tenant and thread, carried in a contextvar.

The ASGI middleware binds ``request_id`` for a request, :func:`cockpit.observability.observe_run`
binds ``run_id``/``tenant_id``/``thread_id`` for a run, and :class:`LogContextFilter` (installed
on the one handler by :func:`cockpit.logging.configure_logging`) copies them onto every record,
so JSON and readable lines both carry them. A contextvar, not a thread-local: asyncio tasks and
LangChain's executor threads copy it, so a run's tool calls log with the run's ids.

Nothing here may hold a secret: these values are printed on every line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import MappingProxyType

from opentelemetry import trace

FIELDS = ("request_id", "run_id", "tenant_id", "thread_id")
"""The fields a log line may carry, in the order a reader expects them."""

_EMPTY: Mapping[str, str] = MappingProxyType({})
_context: ContextVar[Mapping[str, str]] = ContextVar("cockpit_log_context", default=_EMPTY)


def current() -> dict[str, str]:
    """The fields bound in this context (empty outside a request or run)."""
    return dict(_context.get())


def bind(**fields: str | None) -> Token[Mapping[str, str]]:
    """Add ``fields`` (``None`` values are skipped) to this context; undo with :func:`reset`."""
    merged = {**_context.get(), **{k: v for k, v in fields.items() if v is not None}}
    return _context.set(MappingProxyType(merged))


def reset(token: Token[Mapping[str, str]]) -> None:
    """Restore the fields as they were before the :func:`bind` that returned ``token``."""
    _context.reset(token)


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Bind ``fields`` for the duration of the block."""
    token = bind(**fields)
    try:
        yield
    finally:
        reset(token)


class LogContextFilter(logging.Filter):
    """Copies the bound fields (and the current trace id) onto each record it sees.

    A field the caller passed in ``extra=`` wins over the bound one. Installed on a handler,
    it sees records from every logger that propagates to it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        span = trace.get_current_span().get_span_context()
        if span.is_valid and not hasattr(record, "trace_id"):
            record.trace_id = format(span.trace_id, "032x")
        return True


__all__ = ["FIELDS", "LogContextFilter", "bind", "current", "log_context", "reset"]
