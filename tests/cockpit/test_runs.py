"""Run control and stream modes: cancel, background runs, the messages stream, redaction at the boundary."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.support.apptest import running_app


def test_cancel_a_background_run(tmp_path: Path) -> None:
    with running_app(tmp_path) as api:
        key = api.tenant("cancels")
        h = api.h(key)
        tid = api.client.post("/threads", json={}, headers=h).json()["thread_id"]
        run = api.client.post(
            f"/threads/{tid}/runs",
            headers=h,
            json={"assistant_id": "spine", "input": {"messages": ["sleep 30"]}},
        ).json()
        assert run["status"] in ("pending", "running")  # running: it started on this worker
        deadline = time.monotonic() + 10
        while api.client.get(f"/threads/{tid}", headers=h).json()["status"] != "busy":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # Cancel once the tool call is running: a busy thread may still be in its model step
        # (slow under load), and a cancel then stops the run before any tool call starts.
        started = api.data_dir / "spine_sleeps_started.jsonl"
        while not started.exists():
            assert time.monotonic() < deadline, "the run's tool call did not start"
            time.sleep(0.05)
        # A second run on a busy thread is refused, not queued behind it.
        busy = api.client.post(
            f"/threads/{tid}/runs/wait",
            headers=h,
            json={"assistant_id": "spine", "input": {"messages": ["note x"]}},
        )
        assert busy.status_code == 409 and busy.json()["code"] == "thread_busy"
        r = api.client.post(
            f"/threads/{tid}/runs/{run['run_id']}/cancel", params={"wait": 1}, headers=h
        )
        assert r.status_code == 200
        done = api.client.get(f"/threads/{tid}/runs/{run['run_id']}", headers=h).json()
        assert done["status"] == "interrupted" and done["error"]["code"] == "run_cancelled"
        assert api.client.get(f"/threads/{tid}", headers=h).json()["status"] == "idle"
        # The thread is usable again.
        ok = api.say(key, tid, "note after cancel")
        assert '"note": "after cancel"' in ok["messages"][-1]["content"]
        # The tool call the cancel left running was told, and stopped waiting long before 30 s.
        sleeps = api.data_dir / "spine_sleeps.jsonl"
        deadline = time.monotonic() + 10
        while not sleeps.exists():
            assert time.monotonic() < deadline, "the cancelled run's tool call is still waiting"
            time.sleep(0.05)
        assert [json.loads(line)["stopped"] for line in sleeps.read_text().splitlines()] == [True]


def test_messages_stream_modes(tmp_path: Path) -> None:
    with running_app(tmp_path) as api:
        key = api.tenant("streams")
        h = api.h(key)
        tid = api.client.post("/threads", json={}, headers=h).json()["thread_id"]
        events: list[tuple[str, object]] = []
        body = {
            "assistant_id": "spine",
            "input": {"messages": ["note streamed"]},
            "stream_mode": ["messages", "messages-tuple", "updates"],
        }
        with api.client.stream("POST", f"/threads/{tid}/runs/stream", json=body, headers=h) as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            event = None
            for line in resp.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event:
                    events.append((event, json.loads(line[6:])))
        names = [e for e, _ in events]
        assert names[0] == "metadata"
        assert "messages/complete" in names and "messages/metadata" in names and "messages" in names
        tuples = [d for e, d in events if e == "messages"]
        assert all(isinstance(d, list) and len(d) == 2 for d in tuples)
        contents = [d[0]["content"] for e, d in events if e == "messages/complete"]  # type: ignore[index]
        assert any('"note": "streamed"' in c for c in contents)


def test_card_numbers_never_reach_the_checkpoint(tmp_path: Path) -> None:
    with running_app(tmp_path) as api:
        key = api.tenant("pans")
        h = api.h(key)
        tid = api.client.post("/threads", json={}, headers=h).json()["thread_id"]
        api.say(key, tid, "note my card is 4111 1111 1111 1111 exp 12/29")
        history = api.client.post(f"/threads/{tid}/history", json={"limit": 50}, headers=h).text
        state = api.client.get(f"/threads/{tid}/state", headers=h).text
        audit = api.client.get("/v1/audit", headers=h).text
        for blob in (history, state, audit):
            assert "4111 1111 1111 1111" not in blob and "4111111111111111" not in blob
        assert "****1111" in state
