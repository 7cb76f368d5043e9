"""Logging: one redacting handler on stderr, readable on a terminal and JSON lines otherwise.

Secrets and card numbers are redacted in both shapes; nothing here may log unredacted text.
Every line also carries the ids bound in its context (``cockpit.observability.logcontext``):
``request_id`` in a request, ``run_id``/``tenant_id``/``thread_id`` in a run, ``trace_id``.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from cockpit.guardrails.redact import redact, redact_text
from cockpit.observability.logcontext import LogContextFilter

_STD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STD}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the record's extras, the exception."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact_text(record.getMessage()),
        }
        extra = _extra(record)
        if extra:
            payload.update(redact(extra))
        if record.exc_info and record.exc_info[0] is not None:
            payload["exc_type"] = record.exc_info[0].__name__
            payload["exc"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)


class RedactingFormatter(logging.Formatter):
    """``12:00:01 INFO  cockpit.runs: started run_1  run_id=run_1``: for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = _extra(record)
        if extra:
            fields = "  ".join(f"{k}={v}" for k, v in redact(extra).items())
            first, sep, rest = text.partition("\n")
            text = f"{first}  {fields}{sep}{rest}"
        return redact_text(text)


def wants_json(setting: bool | Literal["auto"], stream: TextIO | None = None) -> bool:
    """``auto`` means JSON unless the stream is a terminal someone reads."""
    if setting == "auto":
        stream = stream or sys.stderr
        return not (hasattr(stream, "isatty") and stream.isatty())
    return bool(setting)


def configure_logging(level: str = "INFO", *, json_lines: bool | Literal["auto"] = "auto") -> None:
    """Route every logger through one redacting handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if wants_json(json_lines) else RedactingFormatter())
    # Request, run, tenant and thread ids (and the trace id) on every line that passes here.
    handler.addFilter(LogContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "chromadb", "alembic", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


__all__ = ["JsonFormatter", "RedactingFormatter", "configure_logging", "wants_json"]
