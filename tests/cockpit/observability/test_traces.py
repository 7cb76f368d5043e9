"""Traces: HTTP → run → node → tool is one trace, parent by parent, with tenant and run ids."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from cockpit.observability import observe_run, run_callbacks, traceparent, tracing
from cockpit.runtime.threads import checkpoint_key
from tests.support.apptest import Api, running_app

TENANT = "obs-t"


@pytest.fixture
def api(tmp_path: Any) -> Iterator[Api]:
    with running_app(tmp_path) as api:
        yield api


def _one(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


def _parent_of(child: ReadableSpan, parent: ReadableSpan) -> bool:
    assert child.parent is not None and parent.context is not None and child.context is not None
    return (
        child.parent.span_id == parent.context.span_id
        and child.context.trace_id == parent.context.trace_id
    )


def _new_thread(api: Api, key: str) -> str:
    r = api.client.post("/threads", json={}, headers=api.h(key))
    assert r.status_code == 200, r.text
    return str(r.json()["thread_id"])


def test_a_request_is_a_server_span_continuing_the_callers_trace(
    api: Api, spans: InMemorySpanExporter
) -> None:
    key = api.tenant(TENANT)
    tid = _new_thread(api, key)
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    r = api.client.get(
        f"/threads/{tid}",
        headers={**api.h(key), "traceparent": f"00-{caller_trace}-00f067aa0ba902b7-01"},
    )
    assert r.status_code == 200, r.text
    span = _one(spans.get_finished_spans(), "GET /threads/{thread_id}")
    assert span.kind is trace.SpanKind.SERVER
    assert span.context is not None and format(span.context.trace_id, "032x") == caller_trace
    assert span.parent is not None and format(span.parent.span_id, "016x") == "00f067aa0ba902b7"
    attrs = dict(span.attributes or {})
    assert attrs["http.route"] == "/threads/{thread_id}"
    assert attrs["http.response.status_code"] == 200
    assert attrs["cockpit.tenant_id"] == TENANT
    assert attrs["cockpit.request_id"] == r.headers["x-request-id"]


def test_a_chat_turn_through_the_api_is_one_trace_from_request_to_tool(
    api: Api, spans: InMemorySpanExporter
) -> None:
    key = api.tenant(TENANT)
    tid = _new_thread(api, key)
    spans.clear()
    out = api.say(key, tid, "note hello")
    done = spans.get_finished_spans()
    http = _one(done, "POST /threads/{thread_id}/runs/wait")
    run = _one(done, "run")
    tools_node = _one(done, "node tools")
    agents = [s for s in done if s.name == "node agent"]
    tool = _one(done, "tool spine_note")
    assert _parent_of(run, http)
    assert len(agents) == 2 and all(_parent_of(n, run) for n in agents)
    assert _parent_of(tools_node, run)
    assert _parent_of(tool, tools_node)
    run_id = dict(run.attributes or {})["cockpit.run_id"]
    assert out["messages"][-1]["content"].startswith("Done")  # the turn really ran
    assert dict(run.attributes or {})["cockpit.thread_id"] == tid
    assert (
        dict(run.attributes or {})["cockpit.request_id"]
        == dict(http.attributes or {})["cockpit.request_id"]
    )
    for span in (run, tools_node, tool):
        attrs = dict(span.attributes or {})
        assert (attrs["cockpit.tenant_id"], attrs["cockpit.run_id"]) == (TENANT, run_id)
    tool_attrs = dict(tool.attributes or {})
    assert (tool_attrs["cockpit.tool"], tool_attrs["cockpit.tool_kind"]) == ("spine_note", "read")
    assert tool_attrs["cockpit.outcome"] == "ok"


def _graph_and_config(api: Api, key_tenant: str, thread_id: str) -> tuple[Any, RunnableConfig]:
    svc = api.client.app.state.services  # type: ignore[attr-defined]
    _resolved, graph = svc.runtime.graph_for(key_tenant, "spine")
    run_id = str(uuid.uuid4())
    config: RunnableConfig = {
        "configurable": {
            "thread_id": checkpoint_key(key_tenant, thread_id),
            "public_thread_id": thread_id,
            "tenant_id": key_tenant,
            "role": "admin",
            "key_id": "system",
            "run_id": run_id,
            "assistant_id": "spine",
        },
        "callbacks": run_callbacks(run_id=run_id, tenant_id=key_tenant),
        "run_id": uuid.UUID(run_id),
    }
    return graph, config


async def _run(graph: Any, config: RunnableConfig, text: str, **observe: Any) -> str:
    conf = config["configurable"]
    with observe_run(
        tenant_id=conf["tenant_id"],
        run_id=conf["run_id"],
        thread_id=conf["public_thread_id"],
        assistant_id="spine",
        **observe,
    ) as obs:
        payload = {"messages": [{"role": "user", "content": text}]}
        async for _ in graph.astream(payload, config, stream_mode=["values"]):
            pass
        obs.status = "success"
    return str(conf["run_id"])


@pytest.fixture
def spine(api: Api) -> tuple[str, Any, RunnableConfig]:
    """A new thread of the test tenant, the spine graph, and a run's config on that thread."""
    tid = _new_thread(api, api.tenant(TENANT))
    graph, config = _graph_and_config(api, TENANT, tid)
    return tid, graph, config


def test_run_node_and_tool_spans_nest_under_the_request_span(
    spine: tuple[str, Any, RunnableConfig], spans: InMemorySpanExporter
) -> None:
    tid, graph, config = spine

    async def in_a_request() -> str:
        # What the run manager does: the run's task starts inside the request's span.
        with tracing.tracer().start_as_current_span("POST /threads/{thread_id}/runs"):
            # The stored traceparent is ignored inside a request: the run is the request's child.
            own = traceparent()
            return await asyncio.create_task(_run(graph, config, "note nested", traceparent=own))

    spans.clear()
    run_id = asyncio.run(in_a_request())
    done = spans.get_finished_spans()
    http = _one(done, "POST /threads/{thread_id}/runs")
    run = _one(done, "run")
    tools_node = _one(done, "node tools")
    agent_nodes = [s for s in done if s.name == "node agent"]
    tool = _one(done, "tool spine_note")
    assert _parent_of(run, http) and not run.links
    assert len(agent_nodes) == 2  # asks the model, then answers from the tool's result
    assert all(_parent_of(n, run) for n in agent_nodes)
    assert _parent_of(tools_node, run)
    assert _parent_of(tool, tools_node)
    run_attrs = dict(run.attributes or {})
    assert run_attrs["cockpit.run_id"] == run_id
    assert run_attrs["cockpit.tenant_id"] == TENANT
    assert run_attrs["cockpit.thread_id"] == tid
    assert run_attrs["cockpit.assistant_id"] == "spine"
    assert run_attrs["cockpit.run_status"] == "success"
    for span in (tools_node, tool):
        attrs = dict(span.attributes or {})
        assert (attrs["cockpit.tenant_id"], attrs["cockpit.run_id"]) == (TENANT, run_id)


def test_a_queued_run_starts_its_own_trace_linked_to_the_request(
    spine: tuple[str, Any, RunnableConfig], spans: InMemorySpanExporter
) -> None:
    _tid, graph, config = spine
    with tracing.tracer().start_as_current_span("POST /threads/{thread_id}/runs") as request:
        stored = traceparent()  # what the queue keeps with the run
    assert stored is not None
    spans.clear()
    asyncio.run(_run(graph, config, "note later", traceparent=stored))
    run = _one(spans.get_finished_spans(), "run")
    assert run.parent is None
    assert run.context is not None
    assert run.context.trace_id != request.get_span_context().trace_id
    assert [link.context.span_id for link in run.links] == [request.get_span_context().span_id]
    tool = _one(spans.get_finished_spans(), "tool spine_note")
    assert tool.context is not None and tool.context.trace_id == run.context.trace_id


def test_a_failing_run_marks_its_span_as_an_error(spans: InMemorySpanExporter) -> None:
    with (
        pytest.raises(RuntimeError),
        observe_run(tenant_id=TENANT, run_id="r-fail", thread_id=None, assistant_id="spine"),
    ):
        raise RuntimeError("boom")
    run = _one(spans.get_finished_spans(), "run")
    assert run.status.status_code is trace.StatusCode.ERROR
    assert dict(run.attributes or {})["cockpit.run_status"] == "error"
    assert [e.name for e in run.events] == ["exception"]


def test_a_node_that_never_reports_its_end_is_ended_with_its_run(
    spans: InMemorySpanExporter,
) -> None:
    (handler,) = run_callbacks(run_id="r-cut", tenant_id=TENANT)
    with observe_run(tenant_id=TENANT, run_id="r-cut", thread_id=None, assistant_id="spine"):
        handler.on_chain_start(
            None,
            {},
            run_id=uuid.uuid4(),
            parent_run_id=uuid.uuid4(),
            tags=["graph:step:1"],
            metadata={"langgraph_node": "agent", "langgraph_step": 1},
            name="agent",
        )
        assert [s.name for s in spans.get_finished_spans()] == []
    node = _one(spans.get_finished_spans(), "node agent")
    assert _parent_of(node, _one(spans.get_finished_spans(), "run"))
    assert dict(node.attributes or {})["cockpit.unfinished"] is True
