"""Two workers on one PostgreSQL database: a key revoked through one worker's REST route is
refused by the other, a separate process that had the key cached for an hour.

This is the wiring test for the served app (``cockpit.app``): the key service is built with
the configured TTL and follows the runtime's notifications. (Within one process a revoke
evicts every cache directly, so the second worker must be a process of its own.)
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.support.apptest import running_app
from tests.support.live import LiveServer

HOUR = 3600.0


def test_a_revoke_on_one_worker_bites_on_the_other(tmp_path: Path, fresh_pg_url: str) -> None:
    with running_app(tmp_path / "a", fresh_pg_url, key_cache_ttl_s=HOUR) as one:
        other = LiveServer(
            tmp_path / "b", database_url=fresh_pg_url, extra_env={"COCKPIT_KEY_CACHE_TTL_S": "3600"}
        ).start()
        try:
            key = one.tenant("revoked-elsewhere")

            def me() -> httpx.Response:
                return httpx.get(other.url + "/v1/me", headers={"x-api-key": key}, timeout=10)

            assert me().status_code == 200  # now cached by the other worker, for an hour
            key_id = key.split("_")[1]
            assert one.client.delete(f"/v1/keys/{key_id}", headers=one.h(key)).status_code == 204
            deadline = time.monotonic() + 20
            while me().status_code == 200 and time.monotonic() < deadline:
                time.sleep(0.05)
            refused = me()
            assert refused.status_code == 401
            assert refused.json()["code"] == "revoked_api_key"
        finally:
            other.stop()
