"""In-process app for API tests: the real app (lifespan included) on a chosen database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from cockpit.app import create_app
from cockpit.config import Settings
from tests.support.migrated import migrated_sqlite_file
from tests.support.spinekit import AGENTS_DIR, rule_model_factory


@dataclass
class Api:
    client: TestClient
    data_dir: Path
    admin_key: str
    """Platform admin (can create tenants)."""

    def h(self, key: str) -> dict[str, str]:
        return {"x-api-key": key}

    def tenant(self, tenant_id: str, role: str = "admin") -> str:
        """Create a tenant (if needed) and return a new key for it."""
        r = self.client.post(
            "/v1/tenants", json={"tenant_id": tenant_id}, headers=self.h(self.admin_key)
        )
        assert r.status_code in (201, 200), r.text
        r = self.client.post(
            "/v1/keys", json={"role": role, "tenant_id": tenant_id}, headers=self.h(self.admin_key)
        )
        assert r.status_code == 201, r.text
        return str(r.json()["key"])

    def say(self, key: str, thread_id: str, text: str, assistant: str = "spine") -> Any:
        r = self.client.post(
            f"/threads/{thread_id}/runs/wait",
            headers=self.h(key),
            json={
                "assistant_id": assistant,
                "input": {"messages": [{"role": "user", "content": text}]},
            },
        )
        assert r.status_code == 200, r.text
        return r.json()


@contextmanager
def running_app(
    tmp_path: Path,
    database_url: str | None = None,
    *,
    raw_calls: list[dict[str, Any]] | None = None,
    loop_agents: frozenset[str] = frozenset(),
    **overrides: Any,
) -> Iterator[Api]:
    data = tmp_path / "data"
    if database_url is None and not (data / "cockpit.db").exists():
        data.mkdir(parents=True, exist_ok=True)
        migrated_sqlite_file(data / "cockpit.db")
    settings = Settings(
        data_dir=data,
        database_url=database_url,
        agents_path=overrides.pop("agents_path", [AGENTS_DIR]),
        tool_modules=["tests.support.spinekit"],
        warmup=False,
        **overrides,
    )
    app = create_app(settings, model_factory=rule_model_factory(raw_calls, loop_agents))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, data, (data / "admin.key").read_text().strip())
