"""Trace export: off by default; when enabled, spans reach an OTLP/HTTP collector on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from cockpit.config import Settings
from cockpit.observability import tracing
from tests.support.apptest import running_app
from tests.support.threaded import served_in_thread


class Collector:
    """A tiny OTLP/HTTP receiver: keeps every POST body sent to ``/v1/traces``."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.other_paths: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if self.path == "/v1/traces":
                    collector.bodies.append(body)
                else:
                    collector.other_paths.append(self.path)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def span_names(self) -> list[str]:
        names = []
        for body in self.bodies:
            request = ExportTraceServiceRequest.FromString(body)
            for resource in request.resource_spans:
                service = {a.key: a.value.string_value for a in resource.resource.attributes}
                assert service["service.name"] == "cockpit"
                names += [s.name for scope in resource.scope_spans for s in scope.spans]
        return names


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    with served_in_thread(c.server):
        yield c


def test_export_is_off_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert Settings().otel_enabled is False
    with running_app(tmp_path) as api:
        assert api.client.get("/ok").status_code == 200
        assert not tracing.exporting()


def test_enabled_export_sends_the_apps_spans_to_the_configured_endpoint(
    tmp_path: Path, collector: Collector
) -> None:
    with running_app(tmp_path, otel_enabled=True, otel_exporter_otlp_endpoint=collector.url) as api:
        assert tracing.exporting()
        key = api.tenant("obs-x")
        assert api.client.get("/v1/me", headers=api.h(key)).status_code == 200
    # Shutting the app down flushed the batch, and export stopped with it.
    assert not tracing.exporting()
    assert collector.other_paths == []
    names = collector.span_names()
    assert "GET /v1/me" in names and "POST /v1/keys" in names


def test_the_standard_otel_endpoint_variable_is_honoured(
    tmp_path: Path, collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    assert Settings().otel_exporter_otlp_endpoint == collector.url
    with running_app(tmp_path, otel_enabled=True) as api:
        assert api.client.get("/ok").status_code == 200
    assert "GET /ok" in collector.span_names()


def test_the_traces_url_follows_the_otlp_convention() -> None:
    assert tracing.otlp_traces_url("http://c:4318") == "http://c:4318/v1/traces"
    assert tracing.otlp_traces_url("http://c:4318/") == "http://c:4318/v1/traces"
    assert tracing.otlp_traces_url("http://c:4318/v1/traces") == "http://c:4318/v1/traces"
