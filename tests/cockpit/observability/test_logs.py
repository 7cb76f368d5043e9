"""Log lines carry the request id (echoed to the caller) and, inside a run, the run's ids."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cockpit.logging import JsonFormatter, RedactingFormatter
from cockpit.observability import LogContextFilter, log_context, observe_run
from cockpit.observability.middleware import request_id_from
from tests.support import spinekit
from tests.support.apptest import running_app

log = logging.getLogger("tests.observability")


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """Root's records as JSON lines, through the filter ``configure_logging`` installs."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(LogContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def _records(out: io.StringIO, msg: str) -> list[dict[str, Any]]:
    found = [json.loads(line) for line in out.getvalue().splitlines()]
    return [r for r in found if r["msg"] == msg]


def test_a_line_logged_during_a_run_carries_its_request_and_run_ids(
    tmp_path: Path, lines: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = spinekit.RuleModel._generate

    def logging_generate(self: Any, messages: Any, *args: Any, **kwargs: Any) -> Any:
        log.info("model asked")
        return answer(self, messages, *args, **kwargs)

    monkeypatch.setattr(spinekit.RuleModel, "_generate", logging_generate)
    with running_app(tmp_path) as api:
        key = api.tenant("obs-l")
        tid = api.client.post("/threads", json={}, headers=api.h(key)).json()["thread_id"]
        r = api.client.post(
            f"/threads/{tid}/runs/wait",
            headers={**api.h(key), "x-request-id": "trace-me-42"},
            json={
                "assistant_id": "spine",
                "input": {"messages": [{"role": "user", "content": "hi"}]},
            },
        )
        assert r.status_code == 200, r.text
        assert r.headers["x-request-id"] == "trace-me-42"
    asked = _records(lines, "model asked")
    assert asked and all(rec["request_id"] == "trace-me-42" for rec in asked)
    assert all(rec["thread_id"] == tid and rec["tenant_id"] == "obs-l" for rec in asked)
    assert len({rec["run_id"] for rec in asked}) == 1
    assert all(len(rec["trace_id"]) == 32 for rec in asked)


def test_a_queued_run_logs_with_the_request_id_stored_with_it(lines: io.StringIO) -> None:
    with observe_run(
        tenant_id="obs-l", run_id="run-9", thread_id=None, assistant_id="spine", request_id="req_q"
    ):
        log.info("from the worker")
    (rec,) = _records(lines, "from the worker")
    assert (rec["request_id"], rec["run_id"]) == ("req_q", "run-9")
    assert "thread_id" not in rec


def test_a_line_logged_inside_a_run_carries_the_run_tenant_and_thread(lines: io.StringIO) -> None:
    with log_context(request_id="req_outer"):
        with observe_run(tenant_id="obs-l", run_id="run-7", thread_id="th-7", assistant_id="spine"):
            log.info("inside")
        log.info("after")
    log.info("outside")
    (inside,) = _records(lines, "inside")
    assert {k: inside[k] for k in ("request_id", "run_id", "tenant_id", "thread_id")} == {
        "request_id": "req_outer",
        "run_id": "run-7",
        "tenant_id": "obs-l",
        "thread_id": "th-7",
    }
    (after,) = _records(lines, "after")
    assert after["request_id"] == "req_outer" and "run_id" not in after
    (outside,) = _records(lines, "outside")
    assert "request_id" not in outside


def test_the_readable_format_shows_the_ids_too() -> None:
    record = logging.LogRecord("cockpit.x", logging.INFO, __file__, 1, "hello", None, None)
    with log_context(request_id="req_1", run_id="run_1"):
        assert LogContextFilter().filter(record)
    text = RedactingFormatter().format(record)
    assert "request_id=req_1" in text and "run_id=run_1" in text


def test_an_explicit_extra_wins_over_the_bound_field(lines: io.StringIO) -> None:
    with log_context(run_id="bound"):
        log.info("explicit", extra={"run_id": "given"})
    (rec,) = _records(lines, "explicit")
    assert rec["run_id"] == "given"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("abc-123_X.y:z@w", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("with space", False),
        ("inject\nrun_id=forged", False),
        ("", False),
    ],
)
def test_an_incoming_request_id_is_kept_only_when_well_formed(sent: str, kept: bool) -> None:
    got = request_id_from([(b"x-request-id", sent.encode())])
    assert (got == sent) is kept
    if not kept:
        assert got.startswith("req_") and len(got) == 36


def test_a_request_without_an_id_gets_a_new_one_each_time(tmp_path: Path) -> None:
    with running_app(tmp_path) as api:
        first = api.client.get("/ok").headers["x-request-id"]
        second = api.client.get("/ok").headers["x-request-id"]
        refused = api.client.get("/v1/me").headers["x-request-id"]  # a 401 is answered with one too
    assert len({first, second, refused}) == 3
    assert all(rid.startswith("req_") for rid in (first, second, refused))
