"""Scenario-test harness for the built-in agent team: the real app, local planner, seeded demo world.

A template data dir (database with the payments demo world and credit strategies, plus the
knowledge store with our corpus) is built once per test session and copied for each module, so
every module starts from the same world and owns its copy. Everything goes through HTTP.

    def test_x(team: TeamHarness) -> None:
        key = team.merchant_key
        tid = team.thread(key)
        turn = team.say(key, tid, "why did my last payment fail?")
        assert "declined" in turn.answer
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from cockpit.app import create_app
from cockpit.config import Settings
from cockpit.db.migrate import upgrade
from cockpit.db.session import Database
from cockpit.tenancy.keys import KeyService

DEMO = "demo"
_TEMPLATE: dict[str, Any] = {}


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    # No background monitor checks: they would write findings into a world a test is reading.
    overrides.setdefault("monitors_poll_s", 0)
    return Settings(data_dir=data_dir, demo=True, warmup=False, embeddings="minilm", **overrides)


def build_template(root: Path) -> dict[str, Any]:
    """Seed a data dir once: demo world, credit strategies, knowledge corpus."""
    from knowledge import open_store
    from tools.credit.service import service_for
    from tools.credit.startup import seed_examples
    from tools.payments.demo import seed_demo_world

    data = root / "template"
    settings = settings_for(data)
    settings.ensure_data_dir()
    db = Database(settings.resolved_database_url)
    upgrade(db)
    KeyService(db).ensure_tenant(DEMO, name="Demo", demo=True)
    summary = seed_demo_world(db, DEMO)
    seed_examples(service_for(db), DEMO)
    db.dispose()
    open_store(settings)  # embeds our corpus into <data>/chroma once
    return {"dir": data, "merchants": dict(summary.merchant_ids)}


@dataclass
class Turn:
    """One user turn's outcome."""

    answer: str
    """The last AI message's text (empty if the turn stopped at an approval)."""
    messages: list[dict[str, Any]]
    """Messages this turn added (AI, tool), in order."""
    interrupt: dict[str, Any] | None
    """The approval request, when the turn stopped for one."""
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        return [c for m in self.messages if m.get("type") == "ai" for c in m.get("tool_calls", [])]

    @property
    def tools_called(self) -> list[str]:
        return [c["name"] for c in self.tool_calls]

    def tool_results(self, name: str) -> list[Any]:
        out = []
        for m in self.messages:
            if m.get("type") == "tool" and m.get("name") == name:
                try:
                    out.append(json.loads(m["content"]))
                except (TypeError, ValueError):
                    out.append(m["content"])
        return out


@dataclass
class TeamHarness:
    client: TestClient
    data_dir: Path
    merchants: dict[str, str]
    """Demo merchant ids by key: sg, kr, th, de, br, id, us."""
    merchant_key: str
    """Merchant key bound to the Singapore demo merchant (Lion Electronics)."""
    admin_key: str
    """Admin key of the demo tenant (sees every merchant)."""

    def h(self, key: str) -> dict[str, str]:
        return {"x-api-key": key}

    def key_for(self, merchant: str, role: str = "merchant") -> str:
        """A key bound to another demo merchant (``sg``, ``kr``, ``th``…)."""
        r = self.client.post(
            "/v1/keys",
            json={"role": role, "merchant_id": self.merchants[merchant]},
            headers=self.h(self.admin_key),
        )
        assert r.status_code == 201, r.text
        return str(r.json()["key"])

    def thread(self, key: str) -> str:
        return str(self.client.post("/threads", json={}, headers=self.h(key)).json()["thread_id"])

    def _turn(self, key: str, tid: str, before: int, body: dict[str, Any]) -> Turn:
        r = self.client.post(f"/threads/{tid}/runs/wait", json=body, headers=self.h(key))
        assert r.status_code == 200, r.text
        values = r.json()
        assert "__error__" not in values, values
        msgs = values.get("messages", [])[before:]
        interrupts = values.get("__interrupt__") or []
        ai = [m for m in msgs if m.get("type") == "ai" and m.get("content")]
        answer = str(ai[-1]["content"]) if ai and not interrupts else ""
        return Turn(answer, msgs, interrupts[0]["value"] if interrupts else None, values)

    def _count(self, key: str, tid: str) -> int:
        state = self.client.get(f"/threads/{tid}/state", headers=self.h(key)).json()
        return len(state.get("values", {}).get("messages", []) or [])

    def say(self, key: str, tid: str, text: str, assistant: str = "cockpit") -> Turn:
        before = self._count(key, tid) + 1  # the user's own message is not part of the turn
        body = {
            "assistant_id": assistant,
            "input": {"messages": [{"role": "user", "content": text}]},
        }
        return self._turn(key, tid, before, body)

    def resume(
        self, key: str, tid: str, decision: dict[str, Any], assistant: str = "cockpit"
    ) -> Turn:
        before = self._count(key, tid)
        body = {"assistant_id": assistant, "command": {"resume": decision}}
        return self._turn(key, tid, before, body)

    def get(self, key: str, path: str, **params: Any) -> Any:
        r = self.client.get(path, params=params, headers=self.h(key))
        assert r.status_code == 200, r.text
        return r.json()


@contextmanager
def running_team(
    tmp_path: Path, template: dict[str, Any], **overrides: Any
) -> Iterator[TeamHarness]:
    data = tmp_path / "data"
    shutil.copytree(template["dir"], data)
    app = create_app(settings_for(data, **overrides))
    with TestClient(app, raise_server_exceptions=False) as client:
        admin = (data / "demo.key").read_text().strip()
        r = client.post(
            "/v1/keys",
            json={"role": "merchant", "merchant_id": template["merchants"]["sg"], "name": "sg"},
            headers={"x-api-key": admin},
        )
        assert r.status_code == 201, r.text
        yield TeamHarness(client, data, template["merchants"], r.json()["key"], admin)


class PaymentPool:
    """Captured, unrefunded, undisputed card payments of one merchant, handed out once each."""

    def __init__(self, team: TeamHarness, key: str, *, min_minor: int) -> None:
        rows = team.get(
            key, "/v1/payments/payments", state="CAPTURED", method_type="CARD", days=90, limit=200
        )["data"]
        self._team, self._key = team, key
        self._ids: list[str] = [
            str(r["paymentId"])
            for r in rows
            if r["refundedAmount"]["value"] == "0" and int(r["paymentAmount"]["value"]) >= min_minor
        ]

    def take(self) -> str:
        while self._ids:
            pid = self._ids.pop(0)
            view = self._team.get(self._key, f"/v1/payments/payments/{pid}")
            if not view.get("disputed") and not view.get("refunds"):
                return pid
        raise AssertionError("the demo world ran out of refundable payments")
