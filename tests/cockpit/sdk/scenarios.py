"""One scenario per langgraph-sdk client method, each asserting what Cockpit really did.

Scenarios run against a served Cockpit through the unchanged SDK (``get_client``); each makes
what it needs (threads, assistants, runs, items) so it can run alone. Keys: ``client.<method>``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import APIStatusError

Scenario = Callable[[LangGraphClient, "World"], Awaitable[None]]
SCENARIOS: dict[str, Scenario] = {}


@dataclass(frozen=True)
class World:
    url: str
    key: str
    """A tenant admin (every role check passes)."""
    other_key: str
    """An admin of another tenant."""

    def client(self, key: str | None = None) -> LangGraphClient:
        return get_client(url=self.url, api_key=key or self.key)


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        SCENARIOS[name] = fn
        return fn

    return register


async def refused(call: Awaitable[Any], status: int, code: str) -> APIStatusError:
    """``call`` fails with ``status`` and Cockpit's error ``code``."""
    try:
        await call
    except APIStatusError as err:
        assert (err.status_code, err.code) == (status, code), (err.status_code, err.body)
        return err
    raise AssertionError(f"expected {status} {code}")


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def mentions(values: Any, fragment: str) -> bool:
    """Does a message of ``values`` (a thread state) carry ``fragment`` in its content?"""
    messages = values.get("messages", []) if isinstance(values, dict) else []
    return any(fragment in str(m.get("content")) for m in messages)


async def talked(c: LangGraphClient, *texts: str) -> str:
    """A thread after one finished run per text."""
    tid = (await c.threads.create(metadata={"scenario": "sdk"}))["thread_id"]
    for text in texts:
        await c.runs.wait(tid, "spine", input=said(text))
    return str(tid)


async def _idle(c: LangGraphClient, tid: str) -> None:
    for _ in range(200):
        if (await c.threads.get(tid))["status"] != "busy":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("thread stayed busy")


# ---- assistants -------------------------------------------------------------------------


async def _mine(c: LangGraphClient, **kw: Any) -> dict[str, Any]:
    return dict(
        await c.assistants.create(
            "spine",
            name="Support notes",
            context={"instructions": "Write short notes."},
            metadata={"team": kw.pop("team", "ops")},
            **kw,
        )
    )


@scenario("assistants.get")
async def _a_get(c: LangGraphClient, w: World) -> None:
    a = await c.assistants.get("spine")
    assert (a["assistant_id"], a["graph_id"], a["metadata"]["source"]) == (
        "spine",
        "spine",
        "builtin",
    )
    await refused(c.assistants.get("no-such-agent"), 404, "assistant_not_found")


@scenario("assistants.get_graph")
async def _a_graph(c: LangGraphClient, w: World) -> None:
    plain = await c.assistants.get_graph("spine")
    assert {n["id"] for n in plain["nodes"]} == {"__start__", "guard", "agent", "tools", "__end__"}
    assert {"source": "tools", "target": "agent"} in plain["edges"]
    team = await c.assistants.get_graph("spine", xray=True)
    assert "spine:spine_payout" in {n["id"] for n in team["nodes"]}
    spec = await c.assistants.get("spine")
    assert "You send payouts" not in json.dumps([plain, team]), "instructions leaked"
    assert spec["assistant_id"] in {n["id"] for n in team["nodes"]}


@scenario("assistants.get_schemas")
async def _a_schemas(c: LangGraphClient, w: World) -> None:
    s = await c.assistants.get_schemas("spine")
    assert s["graph_id"] == "spine" and "messages" in s["input_schema"]["properties"]


@scenario("assistants.get_subgraphs")
async def _a_subgraphs(c: LangGraphClient, w: World) -> None:
    assert await c.assistants.get_subgraphs("spine") == {}
    assert await c.assistants.get_subgraphs("spine", namespace="agent", recurse=True) == {}
    await refused(c.assistants.get_subgraphs("no-such-agent"), 404, "assistant_not_found")


@scenario("assistants.create")
async def _a_create(c: LangGraphClient, w: World) -> None:
    a = await _mine(c)
    assert (a["graph_id"], a["version"], a["name"]) == ("spine", 1, "Support notes")
    assert a["context"] == {"instructions": "Write short notes."}
    assert a["metadata"]["team"] == "ops" and a["metadata"]["aliases"] == ["live"]
    again = await c.assistants.create(
        "spine", assistant_id=a["assistant_id"], if_exists="do_nothing"
    )
    assert again["version"] == 1
    await refused(
        c.assistants.create("spine", assistant_id=a["assistant_id"]), 409, "assistant_exists"
    )
    err = await refused(
        c.assistants.create("spine", context={"temperature": 1}), 422, "unknown_field"
    )
    assert err.param == "context.temperature"
    err = await refused(
        c.assistants.create("spine", context={"tools": [{"name": "wire_money"}]}),
        422,
        "unknown_tool",
    )
    assert err.param == "context.tools.0.name"
    await refused(c.assistants.create("nothing-here"), 404, "graph_not_found")
    # The new assistant runs.
    tid = (await c.threads.create())["thread_id"]
    out = await c.runs.wait(tid, a["assistant_id"], input=said("note made"))
    assert mentions(out, '"note": "made"')


@scenario("assistants.update")
async def _a_update(c: LangGraphClient, w: World) -> None:
    a = await _mine(c)
    b = await c.assistants.update(
        a["assistant_id"], context={"instructions": "Longer notes."}, metadata={"v": 2}
    )
    assert b["version"] == 2 and b["context"]["instructions"] == "Longer notes."
    assert b["metadata"]["team"] == "ops" and b["metadata"]["v"] == 2  # merged
    assert (await c.assistants.get(a["assistant_id"]))["version"] == 2
    err = await refused(
        c.assistants.update(a["assistant_id"], graph_id="copilot"), 422, "graph_id_immutable"
    )
    assert err.param == "graph_id"


@scenario("assistants.delete")
async def _a_delete(c: LangGraphClient, w: World) -> None:
    a = await _mine(c)
    await c.assistants.delete(a["assistant_id"])
    await refused(c.assistants.get(a["assistant_id"]), 404, "assistant_not_found")
    assert a["assistant_id"] not in [
        x["assistant_id"] for x in await c.assistants.search(limit=100)
    ]
    await refused(c.assistants.delete("spine"), 409, "builtin_assistant")


@scenario("assistants.search")
async def _a_search(c: LangGraphClient, w: World) -> None:
    team = f"search-{uuid.uuid4().hex[:6]}"
    a = await _mine(c, team=team)
    found = await c.assistants.search(metadata={"team": team})
    assert [x["assistant_id"] for x in found] == [a["assistant_id"]]
    only = await c.assistants.search(graph_id="spine", select=["assistant_id"], limit=100)
    assert {"assistant_id": a["assistant_id"]} in only and all(
        list(x) == ["assistant_id"] for x in only
    )
    ordered = await c.assistants.search(sort_by="assistant_id", sort_order="desc", limit=100)
    ids = [x["assistant_id"] for x in ordered]
    assert ids == sorted(ids, reverse=True)
    page = await c.assistants.search(limit=1, response_format="object")
    assert len(page["assistants"]) == 1 and page["next"] == "1"


@scenario("assistants.count")
async def _a_count(c: LangGraphClient, w: World) -> None:
    team = f"count-{uuid.uuid4().hex[:6]}"
    await _mine(c, team=team)
    await _mine(c, team=team)
    assert await c.assistants.count(metadata={"team": team}) == 2
    assert await c.assistants.count(graph_id="spine") >= 3


@scenario("assistants.get_versions")
async def _a_versions(c: LangGraphClient, w: World) -> None:
    a = await _mine(c)
    await c.assistants.update(a["assistant_id"], name="Renamed")
    versions = await c.assistants.get_versions(a["assistant_id"])
    assert [(v["version"], v["name"]) for v in versions] == [(2, "Renamed"), (1, "Support notes")]
    assert [
        v["version"] for v in await c.assistants.get_versions(a["assistant_id"], limit=1, offset=1)
    ] == [1]


@scenario("assistants.set_latest")
async def _a_latest(c: LangGraphClient, w: World) -> None:
    a = await _mine(c)
    await c.assistants.update(a["assistant_id"], name="Second")
    back = await c.assistants.set_latest(a["assistant_id"], 1)
    assert (back["version"], back["name"]) == (1, "Support notes")
    assert (await c.assistants.get(a["assistant_id"]))["version"] == 1
    await refused(c.assistants.set_latest(a["assistant_id"], 9), 404, "agent_version_not_found")
    await refused(c.assistants.set_latest("spine", 1), 404, "agent_not_found")


# ---- threads ----------------------------------------------------------------------------


@scenario("threads.create")
async def _t_create(c: LangGraphClient, w: World) -> None:
    tid = str(uuid.uuid4())
    t = await c.threads.create(thread_id=tid, metadata={"case": "c1"}, graph_id="spine")
    assert (t["thread_id"], t["status"], t["metadata"]) == (
        tid,
        "idle",
        {"case": "c1", "graph_id": "spine"},
    )
    same = await c.threads.create(thread_id=tid, if_exists="do_nothing")
    assert same["metadata"]["case"] == "c1"
    await refused(c.threads.create(thread_id=tid), 409, "thread_exists")
    await refused(c.threads.create(ttl=5), 422, "unsupported_field")
    steps = [{"updates": [{"values": {"messages": []}, "as_node": "agent"}]}]
    await refused(c.threads.create(supersteps=steps), 403, "state_edit_refused")


@scenario("threads.get")
async def _t_get(c: LangGraphClient, w: World) -> None:
    tid = await talked(c, "note got")
    t = await c.threads.get(tid)
    assert t["status"] == "idle" and t["values"]["active_agent"] == "spine"
    await refused(w.client(w.other_key).threads.get(tid), 404, "thread_not_found")


@scenario("threads.update")
async def _t_update(c: LangGraphClient, w: World) -> None:
    tid = (await c.threads.create(metadata={"a": 1}))["thread_id"]
    t = await c.threads.update(tid, metadata={"b": 2})
    assert t is not None and t["metadata"] == {"a": 1, "b": 2}
    assert (await c.threads.get(tid))["metadata"] == {"a": 1, "b": 2}


@scenario("threads.delete")
async def _t_delete(c: LangGraphClient, w: World) -> None:
    tid = await talked(c, "note bye")
    await c.threads.delete(tid)
    await refused(c.threads.get(tid), 404, "thread_not_found")


@scenario("threads.search")
async def _t_search(c: LangGraphClient, w: World) -> None:
    mark = uuid.uuid4().hex
    one = (await c.threads.create(metadata={"mark": mark}))["thread_id"]
    two = await talked(c, "note s")
    await c.threads.update(two, metadata={"mark": mark})
    found = await c.threads.search(metadata={"mark": mark}, sort_by="created_at", sort_order="asc")
    assert [t["thread_id"] for t in found] == [one, two]
    talkers = await c.threads.search(metadata={"mark": mark}, values={"active_agent": "spine"})
    assert [t["thread_id"] for t in talkers] == [two]
    picked = await c.threads.search(ids=[one], select=["thread_id", "status"])
    assert picked == [{"thread_id": one, "status": "idle"}]


@scenario("threads.count")
async def _t_count(c: LangGraphClient, w: World) -> None:
    mark = uuid.uuid4().hex
    for _ in range(3):
        await c.threads.create(metadata={"mark": mark})
    assert await c.threads.count(metadata={"mark": mark}) == 3
    assert await c.threads.count(metadata={"mark": mark}, status="busy") == 0


@scenario("threads.copy")
async def _t_copy(c: LangGraphClient, w: World) -> None:
    tid = await talked(c, "note original")
    copied = await c.threads.copy(tid)
    assert copied["thread_id"] != tid
    new = copied["thread_id"]
    assert (await c.threads.get_state(new))["values"] == (await c.threads.get_state(tid))["values"]
    assert len(await c.threads.get_history(new, limit=50)) == len(
        await c.threads.get_history(tid, limit=50)
    )
    await c.runs.wait(new, "spine", input=said("note only in the copy"))  # the copy goes on alone
    assert "only in the copy" not in json.dumps((await c.threads.get_state(tid))["values"])


@scenario("threads.prune")
async def _t_prune(c: LangGraphClient, w: World) -> None:
    keep, gone = await talked(c, "note a", "note b"), await talked(c, "note c")
    before = await c.threads.get_state(keep)
    assert (await c.threads.prune([keep], strategy="keep_latest")) == {"pruned_count": 1}
    history = await c.threads.get_history(keep, limit=50)
    assert len(history) == 1 and history[0]["values"] == before["values"]
    assert await c.threads.prune([gone]) == {"pruned_count": 1}
    await refused(c.threads.get(gone), 404, "thread_not_found")
    await refused(c.threads.prune([keep, str(uuid.uuid4())]), 404, "thread_not_found")
    assert len(await c.threads.get_history(keep, limit=50)) == 1  # all or nothing


@scenario("threads.get_state")
async def _t_state(c: LangGraphClient, w: World) -> None:
    tid = await talked(c, "note first", "note second")
    now = await c.threads.get_state(tid)
    history = await c.threads.get_history(tid, limit=50)
    older = next(h for h in history if len(h["values"].get("messages", [])) == 4)
    cid = older["checkpoint"]["checkpoint_id"]
    by_id = await c.threads.get_state(tid, checkpoint_id=cid)
    by_ref = await c.threads.get_state(tid, checkpoint=older["checkpoint"], subgraphs=True)
    assert by_id["values"] == by_ref["values"] == older["values"] != now["values"]
    assert by_id["checkpoint"]["checkpoint_id"] == cid
    await refused(c.threads.get_state(tid, checkpoint_id="1f0-nope"), 404, "checkpoint_not_found")


@scenario("threads.update_state")
async def _t_update_state(c: LangGraphClient, w: World) -> None:
    tid = await talked(c, "note x")
    before = await c.threads.get_state(tid)
    err = await refused(
        c.threads.update_state(tid, {"active_agent": "copilot"}), 403, "state_edit_refused"
    )
    assert err.type == "policy_error"
    assert (await c.threads.get_state(tid))["values"] == before["values"]


@scenario("threads.get_history")
async def _t_history(c: LangGraphClient, w: World) -> None:
    tid = await talked(c, "note one", "note two")
    full = await c.threads.get_history(tid, limit=50)
    steps = [h["metadata"]["step"] for h in full]
    assert steps == sorted(steps, reverse=True) and len(full) > 4
    older = await c.threads.get_history(tid, limit=50, before=full[1]["checkpoint"])
    assert [h["checkpoint"] for h in older] == [h["checkpoint"] for h in full[2:]]
    inputs = await c.threads.get_history(tid, limit=50, metadata={"source": "input"})
    assert len(inputs) == 2 and all(h["metadata"]["source"] == "input" for h in inputs)
    since = await c.threads.get_history(tid, limit=2, checkpoint=full[3]["checkpoint"])
    assert [h["checkpoint"] for h in since] == [h["checkpoint"] for h in full[3:5]]
    await refused(c.threads.get_history(tid, metadata={"tenant_id": "x"}), 422, "invalid_filter")


@scenario("threads.join_stream")
async def _t_join_stream(c: LangGraphClient, w: World) -> None:
    tid = (await c.threads.create())["thread_id"]
    assert [p async for p in await c.threads.join_stream(tid)] == []  # no run: ends at once
    await c.runs.create(tid, "spine", input=said("sleep 1"), stream_mode=["values"])
    parts = [p async for p in await c.threads.join_stream(tid)]
    values = [p.data for p in parts if p.event == "values"]
    assert values and mentions(values[-1], '"slept": 1.0')
    await _idle(c, tid)


@scenario("threads.stream")
async def _t_stream(c: LangGraphClient, w: World) -> None:
    tid = (await c.threads.create())["thread_id"]
    async with c.threads.stream(tid, assistant_id="spine") as thread:
        try:
            await thread.run.start(input=said("note v3"))
        except httpx.HTTPStatusError as err:
            body = err.response.json()
            assert (err.response.status_code, body["code"]) == (400, "stream_protocol_unsupported")
        else:
            raise AssertionError("the v3 protocol is not served")
    assert (await c.threads.get_state(tid))["values"] == {}


# ---- runs (the lead's) ------------------------------------------------------------------


async def _sleeping(c: LangGraphClient, seconds: int = 5) -> tuple[str, str]:
    tid = (await c.threads.create())["thread_id"]
    run = await c.runs.create(tid, "spine", input=said(f"sleep {seconds}"))
    return tid, run["run_id"]


@scenario("runs.stream")
async def _r_stream(c: LangGraphClient, w: World) -> None:
    tid = (await c.threads.create())["thread_id"]
    parts = [
        p async for p in c.runs.stream(tid, "spine", input=said("note s"), stream_mode="values")
    ]
    assert parts[0].event == "metadata"
    assert mentions([p.data for p in parts if p.event == "values"][-1], '"note": "s"')


@scenario("runs.create")
async def _r_create(c: LangGraphClient, w: World) -> None:
    tid = (await c.threads.create())["thread_id"]
    run = await c.runs.create(tid, "spine", input=said("note bg"))
    assert run["thread_id"] == tid and run["status"] in ("pending", "running", "success")
    out = await c.runs.join(tid, run["run_id"])
    assert mentions(out, '"note": "bg"')


@scenario("runs.create_batch")
async def _r_batch(c: LangGraphClient, w: World) -> None:
    runs = await c.runs.create_batch(
        [
            {"assistant_id": "spine", "input": said("note b1")},
            {"assistant_id": "spine", "input": said("note b2")},
        ]
    )
    assert len(runs) == 2 and runs[0]["thread_id"] != runs[1]["thread_id"]
    for run in runs:
        await c.runs.join(run["thread_id"], run["run_id"])


@scenario("runs.wait")
async def _r_wait(c: LangGraphClient, w: World) -> None:
    tid = (await c.threads.create())["thread_id"]
    out = await c.runs.wait(tid, "spine", input=said("note w"))
    assert isinstance(out, dict) and out["messages"][-1]["type"] == "ai"


@scenario("runs.list")
async def _r_list(c: LangGraphClient, w: World) -> None:
    tid = await talked(c, "note l1", "note l2")
    runs = await c.runs.list(tid)
    assert len(runs) == 2 and {r["status"] for r in runs} == {"success"}


@scenario("runs.get")
async def _r_get(c: LangGraphClient, w: World) -> None:
    tid = await talked(c, "note g")
    (run,) = await c.runs.list(tid)
    got = await c.runs.get(tid, run["run_id"])
    assert (got["run_id"], got["status"]) == (run["run_id"], "success")


@scenario("runs.cancel")
async def _r_cancel(c: LangGraphClient, w: World) -> None:
    tid, run_id = await _sleeping(c)
    await c.runs.cancel(tid, run_id, wait=True)
    status = (await c.runs.get(tid, run_id))["status"]
    assert status == "interrupted", status
    await _idle(c, tid)


@scenario("runs.cancel_many")
async def _r_cancel_many(c: LangGraphClient, w: World) -> None:
    tid, run_id = await _sleeping(c)
    await c.runs.cancel_many(thread_id=tid, status="all")
    for _ in range(200):
        if (await c.runs.get(tid, run_id))["status"] not in ("pending", "running"):
            break
        await asyncio.sleep(0.05)
    assert (await c.runs.get(tid, run_id))["status"] == "interrupted"
    await _idle(c, tid)


@scenario("runs.join")
async def _r_join(c: LangGraphClient, w: World) -> None:
    tid, run_id = await _sleeping(c, 1)
    out = await c.runs.join(tid, run_id)
    assert mentions(out, '"slept": 1.0')


@scenario("runs.join_stream")
async def _r_join_stream(c: LangGraphClient, w: World) -> None:
    tid = (await c.threads.create())["thread_id"]
    run = await c.runs.create(tid, "spine", input=said("sleep 1"), stream_mode=["values"])
    parts = [p async for p in c.runs.join_stream(tid, run["run_id"])]
    assert mentions([p.data for p in parts if p.event == "values"][-1], '"slept": 1.0')


@scenario("runs.delete")
async def _r_delete(c: LangGraphClient, w: World) -> None:
    tid = await talked(c, "note d")
    (run,) = await c.runs.list(tid)
    await c.runs.delete(tid, run["run_id"])
    await refused(c.runs.get(tid, run["run_id"]), 404, "run_not_found")


# ---- crons (the crons helper's) ---------------------------------------------------------


@scenario("crons.create")
async def _c_create(c: LangGraphClient, w: World) -> None:
    cron = await c.crons.create("spine", schedule="*/5 * * * *", input=said("note tick"))
    assert cron["schedule"] == "*/5 * * * *" and cron["cron_id"]


@scenario("crons.create_for_thread")
async def _c_create_thread(c: LangGraphClient, w: World) -> None:
    tid = (await c.threads.create())["thread_id"]
    cron = await c.crons.create_for_thread(
        tid, "spine", schedule="0 * * * *", input=said("note hour")
    )
    assert cron["thread_id"] == tid


@scenario("crons.search")
async def _c_search(c: LangGraphClient, w: World) -> None:
    tid = (await c.threads.create())["thread_id"]
    cron = await c.crons.create_for_thread(tid, "spine", schedule="0 * * * *", input=said("note s"))
    found = await c.crons.search(thread_id=tid)
    assert [x["cron_id"] for x in found] == [cron["cron_id"]]


@scenario("crons.count")
async def _c_count(c: LangGraphClient, w: World) -> None:
    tid = (await c.threads.create())["thread_id"]
    await c.crons.create_for_thread(tid, "spine", schedule="0 * * * *", input=said("note c"))
    assert await c.crons.count(thread_id=tid) == 1


@scenario("crons.update")
async def _c_update(c: LangGraphClient, w: World) -> None:
    cron = await c.crons.create("spine", schedule="*/5 * * * *", input=said("note u"))
    updated = await c.crons.update(cron["cron_id"], schedule="0 9 * * *")
    assert updated["schedule"] == "0 9 * * *"


@scenario("crons.delete")
async def _c_delete(c: LangGraphClient, w: World) -> None:
    tid = (await c.threads.create())["thread_id"]
    cron = await c.crons.create_for_thread(tid, "spine", schedule="0 * * * *", input=said("note x"))
    await c.crons.delete(cron["cron_id"])
    assert await c.crons.search(thread_id=tid) == []


# ---- store ------------------------------------------------------------------------------


def _ns() -> list[str]:
    return ["memories", uuid.uuid4().hex[:10]]


@scenario("store.put_item")
async def _s_put(c: LangGraphClient, w: World) -> None:
    ns = _ns()
    await c.store.put_item(ns, key="prefs", value={"tone": "brief"}, index=["tone"], ttl=60)
    assert (await c.store.get_item(ns, key="prefs"))["value"] == {"tone": "brief"}
    await c.store.put_item(ns, key="prefs", value={"tone": "warm"})
    assert (await c.store.get_item(ns, key="prefs"))["value"] == {"tone": "warm"}
    err = await refused(
        c.store.put_item(ns, key="big", value={"x": "y" * 70_000}), 413, "value_too_large"
    )
    assert err.param == "value"


@scenario("store.get_item")
async def _s_get(c: LangGraphClient, w: World) -> None:
    ns = _ns()
    await c.store.put_item(ns, key="k", value={"n": 1})
    item = await c.store.get_item(ns, key="k", refresh_ttl=False)
    assert (item["namespace"], item["key"], item["value"]) == (ns, "k", {"n": 1})
    await refused(w.client(w.other_key).store.get_item(ns, key="k"), 404, "item_not_found")


@scenario("store.delete_item")
async def _s_delete(c: LangGraphClient, w: World) -> None:
    ns = _ns()
    await c.store.put_item(ns, key="k", value={"n": 1})
    await c.store.delete_item(ns, key="k")
    await refused(c.store.get_item(ns, key="k"), 404, "item_not_found")


@scenario("store.search_items")
async def _s_search(c: LangGraphClient, w: World) -> None:
    ns = _ns()
    await c.store.put_item([*ns, "a"], key="1", value={"kind": "refund", "text": "late parcel"})
    await c.store.put_item([*ns, "b"], key="2", value={"kind": "dispute", "text": "fraud ring"})
    got = await c.store.search_items(ns, filter={"kind": "refund"})
    assert [i["key"] for i in got["items"]] == ["1"]
    hits = await c.store.search_items(ns, query="fraud")
    assert [(i["key"], i["score"]) for i in hits["items"]] == [("2", 1.0)]
    assert (await w.client(w.other_key).store.search_items(ns))["items"] == []


@scenario("store.list_namespaces")
async def _s_namespaces(c: LangGraphClient, w: World) -> None:
    ns = _ns()
    for leaf in ("x", "y"):
        await c.store.put_item([*ns, leaf, "deep"], key="k", value={})
    listed = await c.store.list_namespaces(prefix=ns, max_depth=3)
    assert listed == {"namespaces": [[*ns, "x"], [*ns, "y"]]}
    assert (await c.store.list_namespaces(prefix=ns, suffix=["deep"], limit=1))["namespaces"] == [
        [*ns, "x", "deep"]
    ]
