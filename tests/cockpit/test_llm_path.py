"""The model path of the agent node: malformed tool calls and models that do not answer.

A tool call whose arguments cannot be read is reported back to the model once, as an error
it can act on; a second malformed reply ends the turn with a plain answer, never an empty
one. A model that hangs ends the turn with a ``model_timeout`` error instead of holding the
thread (the run answers 502 in the error shape). Both run through the real app, with the scripted model and with the real OpenAI
client against the local OpenAI-compatible server.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from cockpit.app import create_app
from cockpit.config import Settings
from cockpit.models import ChainedChatModel, call_timeout_s, resolve_model
from cockpit.testing import FakeOpenAIServer, FakeReply, register_fake_script
from cockpit.testing.scripted import ScriptStep, unregister_fake_script
from tests.support.spinekit import AGENTS_DIR

ModelFactory = Callable[[Any, list[dict[str, Any]]], Any]
MALFORMED = '{"text": "hello"'  # a JSON object cut short
PLAIN_ANSWER = "my tool calls came out malformed twice, so nothing was done"


def _malformed(call_id: str) -> AIMessage:
    return AIMessage(
        content="",
        invalid_tool_calls=[
            {
                "type": "invalid_tool_call",
                "name": "spine_note",
                "args": MALFORMED,
                "id": call_id,
                "error": "Expecting ',' delimiter",
            }
        ],
    )


@dataclass
class App:
    client: TestClient
    key: str

    def say(self, thread_id: str, text: str) -> dict[str, Any]:
        r = self.client.post(
            f"/threads/{thread_id}/runs/wait",
            headers={"x-api-key": self.key},
            json={
                "assistant_id": "spine",
                "input": {"messages": [{"role": "user", "content": text}]},
            },
        )
        return {"status": r.status_code, **r.json()}

    def thread(self) -> str:
        r = self.client.post("/threads", json={}, headers={"x-api-key": self.key})
        return str(r.json()["thread_id"])


@contextmanager
def app_with(tmp_path: Path, factory: ModelFactory) -> Iterator[App]:
    data = tmp_path / "data"
    settings = Settings(
        data_dir=data,
        agents_path=[AGENTS_DIR],
        tool_modules=["tests.support.spinekit"],
        warmup=False,
    )
    with TestClient(create_app(settings, model_factory=factory)) as client:
        admin = {"x-api-key": (data / "admin.key").read_text().strip()}
        r = client.post("/v1/tenants", json={"tenant_id": "llm"}, headers=admin)
        assert r.status_code in (200, 201), r.text
        r = client.post("/v1/keys", json={"role": "admin", "tenant_id": "llm"}, headers=admin)
        assert r.status_code == 201, r.text
        yield App(client, str(r.json()["key"]))


@contextmanager
def scripted(name: str, steps: Sequence[ScriptStep]) -> Iterator[None]:
    """``fake:<name>`` replays ``steps`` for the duration of the block."""
    register_fake_script(name, steps)
    try:
        yield
    finally:
        unregister_fake_script(name)


def _factory(
    ref: str, built: list[ChainedChatModel], *, timeout_s: float | None = 30.0
) -> ModelFactory:
    def factory(spec: Any, schemas: list[dict[str, Any]]) -> Any:
        model = resolve_model(ref, timeout_s=timeout_s)
        assert isinstance(model, ChainedChatModel)
        built.append(model)
        return model.bind_tools(schemas)

    return factory


def _new(values: dict[str, Any], before: int) -> list[dict[str, Any]]:
    return list(values["messages"][before:])


def _error_of(message: dict[str, Any]) -> dict[str, Any]:
    body = json.loads(message["content"])
    assert isinstance(body, dict)
    return dict(body["error"])


# ----- malformed tool calls ------------------------------------------------------------------


def test_a_malformed_call_is_reported_once_and_the_retry_runs(tmp_path: Path) -> None:
    steps: list[ScriptStep] = [
        _malformed("call_bad"),
        AIMessage(
            content="",
            tool_calls=[{"name": "spine_note", "args": {"text": "hello"}, "id": "call_ok"}],
        ),
        "Noted: hello.",
    ]
    built: list[ChainedChatModel] = []
    factory = _factory("fake:malformed-once", built)
    with scripted("malformed-once", steps), app_with(tmp_path, factory) as app:
        out = app.say(app.thread(), "note hello")
    assert out["status"] == 200 and "__error__" not in out, out
    turn = _new(out, 1)
    assert [m["type"] for m in turn] == ["ai", "tool", "ai", "tool", "ai"]
    assert turn[1]["tool_call_id"] == "call_bad" and turn[1]["status"] == "error"
    error = _error_of(turn[1])
    assert set(error) == {"type", "code", "message", "param"}
    assert error["code"] == "invalid_tool_call" and error["param"] == "spine_note"
    assert "JSON object" in error["message"]
    assert json.loads(turn[3]["content"])["note"] == "hello"
    assert turn[-1]["content"] == "Noted: hello."
    # The retry saw the error right after its malformed call.
    retry_history = built[0].models[0].calls[1]  # type: ignore[attr-defined]
    assert isinstance(retry_history[-1], ToolMessage)
    assert retry_history[-1].tool_call_id == "call_bad"


def test_malformed_twice_gets_a_plain_answer_and_the_thread_goes_on(tmp_path: Path) -> None:
    steps: list[ScriptStep] = [_malformed("call_bad1"), _malformed("call_bad2"), "Hello again."]
    factory = _factory("fake:malformed-twice", [])
    with scripted("malformed-twice", steps), app_with(tmp_path, factory) as app:
        tid = app.thread()
        out = app.say(tid, "note hello")
        assert out["status"] == 200 and "__error__" not in out, out
        turn = _new(out, 1)
        assert [m["type"] for m in turn] == ["ai", "tool", "ai", "tool", "ai"]
        assert [_error_of(m)["code"] for m in turn if m["type"] == "tool"] == [
            "invalid_tool_call",
            "invalid_tool_call",
        ]
        assert PLAIN_ANSWER in turn[-1]["content"]
        assert not turn[-1].get("tool_calls") and not turn[-1].get("invalid_tool_calls")
        # Every call in the thread has its answer, so the next turn is a normal one.
        after = app.say(tid, "hi")
    assert after["status"] == 200 and after["messages"][-1]["content"] == "Hello again."


@dataclass
class RawArgumentsServer(FakeOpenAIServer):
    """The local server, able to send arguments that are not JSON and to stall a model."""

    stall_s: float = 0.0
    unstalled: threading.Event = field(default_factory=threading.Event)
    """Set when the test ends: a stalled reply stops waiting (its client is long gone)."""

    def _completion(self, model: str, reply: FakeReply) -> dict[str, Any]:
        if model.startswith("slow"):
            self.unstalled.wait(self.stall_s)
        body = super()._completion(model, reply)
        sent = body["choices"][0]["message"].get("tool_calls") or []
        for call, scripted_call in zip(sent, reply.tool_calls, strict=True):
            if "raw_arguments" in scripted_call:
                call["function"]["arguments"] = scripted_call["raw_arguments"]
        return body


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[RawArgumentsServer]:
    srv = RawArgumentsServer(replies={})
    srv.start()
    monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    try:
        yield srv
    finally:
        srv.unstalled.set()
        srv.stop()


def test_malformed_json_from_an_openai_model_is_retried_then_answered(
    tmp_path: Path, server: RawArgumentsServer
) -> None:
    bad = FakeReply(tool_calls=[{"name": "spine_note", "raw_arguments": MALFORMED}])
    server.replies["sloppy"] = [bad, bad, FakeReply(content="unused")]
    with app_with(tmp_path, _factory("openai:sloppy", [])) as app:
        out = app.say(app.thread(), "note hello")
    assert out["status"] == 200 and "__error__" not in out, out
    assert PLAIN_ANSWER in out["messages"][-1]["content"]
    # Two completions: the malformed call, then the retry that saw the error as a tool message.
    assert len(server.requests) == 2
    sent_back = server.requests[1]["messages"]
    assert sent_back[-2]["role"] == "assistant" and sent_back[-2]["tool_calls"]
    assert sent_back[-1]["role"] == "tool"
    assert json.loads(sent_back[-1]["content"])["error"]["code"] == "invalid_tool_call"


# ----- models that do not answer -------------------------------------------------------------


HANG_S = 30.0
"""How long a hanging model holds at most; each test releases it as soon as it has its answer
(a model thread still sleeping would hold the app's shutdown). A timeout that did not fire
would return the model's late answer, which the status checks catch."""


def _hang(release: threading.Event) -> Callable[[Sequence[BaseMessage]], AIMessage]:
    def step(_: Sequence[BaseMessage]) -> AIMessage:
        release.wait(HANG_S)
        return AIMessage(content="too late")

    return step


def test_a_hanging_model_ends_the_turn_with_a_timeout_error(tmp_path: Path) -> None:
    factory = _factory("fake:hangs", [], timeout_s=0.3)
    release = threading.Event()
    with scripted("hangs", [_hang(release)]), app_with(tmp_path, factory) as app:
        try:
            out = app.say(app.thread(), "note hello")
        finally:
            release.set()
    assert (out["status"], out["type"], out["code"]) == (502, "model_error", "model_timeout"), out
    assert "did not answer within 0.3 seconds" in out["message"]


def test_a_stalled_openai_server_times_out(tmp_path: Path, server: RawArgumentsServer) -> None:
    server.stall_s = 3.0
    server.replies["slow-model"] = [FakeReply(content="too late")]
    with app_with(tmp_path, _factory("openai:slow-model", [], timeout_s=0.3)) as app:
        out = app.say(app.thread(), "note hello")
    assert (out["status"], out["code"]) == (502, "model_timeout"), out


def test_a_timed_out_model_falls_back_to_the_next() -> None:
    release = threading.Event()

    async def ask() -> Any:
        model = resolve_model("fake:hangs-first", fallbacks=["fake:answers"], timeout_s=0.3)
        try:
            return await model.ainvoke([("user", "hi")])  # the graph's path is async
        finally:
            release.set()

    with scripted("hangs-first", [_hang(release)]), scripted("answers", ["Here I am."]):
        answer = asyncio.run(ask())
    assert answer.content == "Here I am."
    assert answer.response_metadata["cockpit_model"] == "fake:answers"


def test_every_call_has_a_time_budget() -> None:
    chain = resolve_model("local:planner", fallbacks=["local:planner"], timeout_s=10)
    assert call_timeout_s(chain.bind_tools([])) == 21.0
    assert call_timeout_s(resolve_model("local:planner", timeout_s=None)) is None
    assert call_timeout_s(resolve_model("local:planner")) == 61.0
