"""Token streaming end to end: a real OpenAI client, a real server, real clients.

The spine agent runs on ``openai:stream-model`` against the local OpenAI-compatible server
(which streams SSE chunks, tool-call deltas included); the Cockpit app is served by uvicorn on
127.0.0.1. What is checked:

- the runtime's SSE stream carries the answer as several chunks, in order, while the model is
  still producing it (the model holds after its first word until the client has seen it);
- the official langgraph-sdk client reads ``messages-tuple`` chunks (``AIMessageChunk``, one
  stable id per reply) next to ``updates`` that show the tool call and the approval interrupt,
  and the ``messages`` mode's partial / complete events add up to the same answer;
- a card number the model writes is redacted in the chunks, even split across them;
- ``cockpit chat -m`` prints the tokens as they arrive and the tool call compactly, and exits
  1 for a failed turn, 4 for a refused key, 5 for a server it cannot reach.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from cockpit.app import create_app
from cockpit.config import Settings
from cockpit.models import resolve_model
from cockpit.testing import FakeOpenAIServer, FakeReply, fake_openai_server
from tests.support.live import ROOT, free_port, served
from tests.support.spinekit import AGENTS_DIR

MODEL = "stream-model"
ANSWER = "All set: the note is saved and nothing else changed today."
CARD_ANSWER = "Your card 4111 1111 1111 1111 is on file and verified."


@dataclass
class World:
    url: str
    key: str
    openai: FakeOpenAIServer
    hold: threading.Event

    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.key}

    def thread(self) -> str:
        r = httpx.post(f"{self.url}/threads", json={}, headers=self.headers())
        assert r.status_code == 200, r.text
        return str(r.json()["thread_id"])


def _respond(hold: threading.Event) -> Any:
    """The model: tool calls for notes and payouts, then an answer; some words on cue."""

    def respond(body: dict[str, Any]) -> FakeReply:
        last = body["messages"][-1]
        if last["role"] == "tool":
            return FakeReply(content=ANSWER, prompt_tokens=40, completion_tokens=12)
        text = str(last.get("content") or "")
        if text.startswith("note "):
            call = {"name": "spine_note", "arguments": {"text": text[5:]}}
            return FakeReply(tool_calls=[call])
        if text.startswith("pay "):
            call = {
                "name": "spine_payout",
                "arguments": {"amount": 25000, "currency": "USD", "payee": "acme"},
            }
            return FakeReply(tool_calls=[call])
        if text == "card":
            return FakeReply(content=CARD_ANSWER)
        if text == "break":
            return FakeReply(status=500)
        if text == "half":
            return FakeReply(content=ANSWER, fail_after=4)
        if text == "wait for me":
            return FakeReply(content=ANSWER, hold=hold, hold_s=20.0)
        return FakeReply(content=ANSWER)

    return respond


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    hold = threading.Event()
    saved = {k: os.environ.get(k) for k in ("OPENAI_BASE_URL", "OPENAI_API_KEY")}
    with fake_openai_server({}, responders={MODEL: _respond(hold)}) as openai:
        os.environ["OPENAI_BASE_URL"] = openai.base_url
        os.environ.pop("OPENAI_API_KEY", None)

        def factory(spec: Any, schemas: list[dict[str, Any]]) -> Any:
            return resolve_model(f"openai:{MODEL}", timeout_s=30.0).bind_tools(schemas)

        data = tmp_path_factory.mktemp("streaming") / "data"
        settings = Settings(
            data_dir=data,
            agents_path=[AGENTS_DIR],
            tool_modules=["tests.support.spinekit"],
            warmup=False,
        )
        try:
            with served(create_app(settings, model_factory=factory), name="cockpit") as url:
                admin = {"x-api-key": (data / "admin.key").read_text().strip()}
                r = httpx.post(f"{url}/v1/tenants", json={"tenant_id": "streams"}, headers=admin)
                assert r.status_code in (200, 201), r.text
                r = httpx.post(
                    f"{url}/v1/keys", json={"role": "admin", "tenant_id": "streams"}, headers=admin
                )
                assert r.status_code == 201, r.text
                yield World(url, str(r.json()["key"]), openai, hold)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _sse(world: World, thread_id: str, text: str, modes: list[str]) -> Iterator[tuple[str, Any]]:
    body = {
        "assistant_id": "spine",
        "input": {"messages": [{"role": "user", "content": text}]},
        "stream_mode": modes,
    }
    with httpx.stream(
        "POST",
        f"{world.url}/threads/{thread_id}/runs/stream",
        json=body,
        headers=world.headers(),
        timeout=60,
    ) as resp:
        assert resp.status_code == 200, resp.read()
        event = None
        for line in resp.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event:
                yield event, json.loads(line[6:])


def _chunks(events: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [d[0] for e, d in events if e == "messages" and d[0]["type"] == "AIMessageChunk"]


# ----- the runtime's stream ------------------------------------------------------------------


def test_chunks_reach_the_stream_live_and_in_order(world: World) -> None:
    world.hold.clear()
    released_before = world.openai.holds_released
    events: list[tuple[str, Any]] = []
    tid = world.thread()
    for event, data in _sse(world, tid, "wait for me", ["messages-tuple"]):
        events.append((event, data))
        if event == "messages" and data[0].get("content"):
            # The model is holding after its first word: this chunk came out while it was
            # still answering. Let it finish.
            world.hold.set()
    assert world.openai.holds_released == released_before + 1
    chunks = _chunks(events)
    texts = [c["content"] for c in chunks if c["content"]]
    assert len(texts) > 1 and "".join(texts) == ANSWER
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[-1]["chunk_position"] == "last"
    meta = next(d[1] for e, d in events if e == "messages")
    assert meta["langgraph_node"] == "agent" and meta["cockpit_agent_id"] == "spine"
    # The internal checkpoint key and the caller's key never ride along.
    assert "key_id" not in meta and "tenant_id" not in meta
    assert events[-1][0] == "messages"
    # Streamed or not, the call is accounted with the tokens the provider reported.
    run_id = events[0][1]["run_id"]
    run = httpx.get(f"{world.url}/threads/{tid}/runs/{run_id}", headers=world.headers()).json()
    usage = run["usage"]["by_model"][f"openai:{MODEL}"]
    assert (usage["calls"], usage["input_tokens"], usage["output_tokens"]) == (1, 11, 7)


def test_messages_mode_sends_partials_that_add_up_then_the_whole(world: World) -> None:
    events = list(_sse(world, world.thread(), "hello", ["messages"]))
    names = [e for e, _ in events]
    assert names[0] == "metadata" and names[1] == "messages/metadata"
    partials = [d[0]["content"] for e, d in events if e == "messages/partial"]
    # Each partial is the reply so far: every one extends the one before.
    assert len(partials) > 2 and partials[-1] == ANSWER
    assert all(b.startswith(a) for a, b in itertools.pairwise(partials))
    complete = [d[0] for e, d in events if e == "messages/complete"]
    assert [c["content"] for c in complete] == [ANSWER] and complete[0]["type"] == "ai"
    assert names.index("messages/complete") > max(
        i for i, n in enumerate(names) if n == "messages/partial"
    )


def test_a_card_number_split_over_chunks_is_redacted(world: World) -> None:
    tid = world.thread()
    events = list(_sse(world, tid, "card", ["messages-tuple", "messages"]))
    chunks = _chunks(events)
    streamed = "".join(c["content"] for c in chunks)
    assert streamed == "Your card [PAN ****1111] is on file and verified."
    raw = json.dumps(events)
    assert "4111 1111" not in raw and "4111111111111111" not in raw
    # The reply stored in the thread is the same text the client saw.
    state = httpx.get(f"{world.url}/threads/{tid}/state", headers=world.headers()).json()
    assert state["values"]["messages"][-1]["content"] == streamed


def test_a_failed_model_ends_the_stream_with_an_error_event(world: World) -> None:
    events = list(_sse(world, world.thread(), "break", ["messages-tuple", "updates"]))
    assert events[-1][0] == "error" and set(events[-1][1]) == {"error", "message"}
    assert not _chunks(events)


def test_a_model_failing_mid_answer_is_an_error_after_the_chunks_sent(world: World) -> None:
    tid = world.thread()
    events = list(_sse(world, tid, "half", ["messages-tuple", "updates"]))
    texts = [c["content"] for c in _chunks(events) if c["content"]]
    assert texts and ANSWER.startswith("".join(texts)) and "".join(texts) != ANSWER
    assert events[-1] == (
        "error",
        {
            "error": "model_stream_failed",
            "message": f"model openai:{MODEL} failed in the middle of its answer (APIError)",
        },
    )
    # The half answer is not kept as if it were the reply.
    state = httpx.get(f"{world.url}/threads/{tid}/state", headers=world.headers()).json()
    assert [m["type"] for m in state["values"]["messages"]] == ["human"]


# ----- the official langgraph-sdk client ---------------------------------------------------------


def test_sdk_client_reads_chunks_tool_calls_and_the_interrupt(world: World) -> None:
    asyncio.run(_sdk_flow(world))


async def _sdk_flow(world: World) -> None:
    client = get_client(url=world.url, api_key=world.key)
    tid = (await client.threads.create())["thread_id"]
    parts = [
        p
        async for p in client.runs.stream(
            tid,
            "spine",
            input={"messages": [{"role": "user", "content": "note streamed"}]},
            stream_mode=["messages-tuple", "updates"],
        )
    ]
    kinds = [p.event for p in parts]
    assert kinds[0] == "metadata" and "messages" in kinds and "updates" in kinds
    chunks = [p.data[0] for p in parts if p.event == "messages"]
    ai_chunks = [c for c in chunks if c["type"] == "AIMessageChunk"]
    by_id: dict[str, list[dict[str, Any]]] = {}
    for c in ai_chunks:
        by_id.setdefault(c["id"], []).append(c)
    # Two replies (the tool call, then the answer), each with its own stable id.
    assert len(by_id) == 2
    call_reply, answer = by_id.values()
    assert [tc["name"] for c in call_reply for tc in c["tool_call_chunks"] if tc["name"]] == [
        "spine_note"
    ]
    assert len([c for c in answer if c["content"]]) > 1
    assert "".join(c["content"] for c in answer) == ANSWER
    # The tool result arrives whole, between the two replies.
    assert any(c["type"] == "tool" and '"note": "streamed"' in c["content"] for c in chunks)
    # updates show the tool call whole, under the same id as its chunks.
    updates = [p.data for p in parts if p.event == "updates"]
    calls = [
        m
        for u in updates
        for m in (u.get("agent") or {}).get("messages", [])
        if m.get("tool_calls")
    ]
    assert calls and calls[0]["tool_calls"][0]["args"] == {"text": "streamed"}
    assert calls[0]["id"] == next(iter(by_id))

    # A payout over the approval threshold: the interrupt arrives in updates, as before.
    parts = [
        p
        async for p in client.runs.stream(
            tid,
            "spine",
            input={"messages": [{"role": "user", "content": "pay 250.00 USD to acme"}]},
            stream_mode=["messages-tuple", "updates"],
        )
    ]
    interrupts = [
        p.data["__interrupt__"] for p in parts if p.event == "updates" and "__interrupt__" in p.data
    ]
    assert interrupts and interrupts[0][0]["value"]["tool"] == "spine_payout"
    assert interrupts[0][0]["value"]["amount"] == 25000
    parts = [
        p
        async for p in client.runs.stream(
            tid,
            "spine",
            command={"resume": {"action": "approve"}},
            stream_mode=["messages-tuple", "updates"],
        )
    ]
    texts = [
        p.data[0]["content"]
        for p in parts
        if p.event == "messages" and p.data[0]["type"] == "AIMessageChunk"
    ]
    assert "".join(texts) == ANSWER
    state = await client.threads.get_state(tid)
    assert not state["next"] and state["values"]["messages"][-1]["content"] == ANSWER


# ----- cockpit chat --------------------------------------------------------------------------


def _chat(world: World, *args: str, url: str | None = None, key: str | None = None) -> list[str]:
    return [
        sys.executable,
        "-m",
        "cockpit",
        "chat",
        "--url",
        url or world.url,
        "--key",
        key or world.key,
        "--assistant",
        "spine",
        *args,
    ]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    env.update(
        {
            "COCKPIT_DATA_DIR": str(tmp_path / "nodata"),
            "PYTHONPATH": str(ROOT),
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }
    )
    return env


def test_chat_prints_tokens_as_they_arrive(world: World, tmp_path: Path) -> None:
    world.hold.clear()
    released_before = world.openai.holds_released
    proc = subprocess.Popen(
        _chat(world, "-m", "note for the chat", "-m", "wait for me"),
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    seen = b""
    first_word = ANSWER.split()[0].encode()
    # The second turn's model holds after its first word: the chat must show that word
    # before the rest exists. (Bounded: without it the hold ends by itself after 20 s.)
    while True:
        piece = os.read(proc.stdout.fileno(), 4096)
        if not piece:
            break
        seen += piece
        if seen.count(first_word) >= 2 and not world.hold.is_set():
            world.hold.set()
    stderr = proc.stderr.read() if proc.stderr else b""
    assert proc.wait(timeout=60) == 0, (seen + stderr).decode()
    out = seen.decode()
    assert world.openai.holds_released == released_before + 1, out
    assert '→ spine_note({"text": "for the chat"})' in out
    assert out.count(ANSWER) == 2, out
    assert "spine> " + ANSWER in out


def test_chat_exit_codes(world: World, tmp_path: Path) -> None:
    env = _env(tmp_path)
    failed = subprocess.run(
        _chat(world, "-m", "break", "-m", "never sent"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "'break' failed" in failed.stderr and "never sent" not in failed.stdout

    refused = subprocess.run(
        _chat(world, "-m", "hello", key="ck_bogus_0000000000000000000000"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "refused the API key" in refused.stderr and "cannot reach" not in refused.stderr

    nowhere = f"http://127.0.0.1:{free_port()}"
    unreachable = subprocess.run(
        _chat(world, "-m", "hello", url=nowhere),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert unreachable.returncode == 5, unreachable.stdout + unreachable.stderr
    assert f"cannot reach the server at {nowhere}" in unreachable.stderr
