"""The README is executable documentation: its commands, its settings table, its serve output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cockpit.config import Settings
from tests.support.live import free_port

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _block(marker: str) -> list[str]:
    m = re.search(rf"<!-- {marker} -->\n```\n(.*?)\n```\n<!-- /{marker} -->", README, re.S)
    assert m, marker
    return [line for line in m.group(1).splitlines() if line.strip()]


def test_exactly_two_setup_commands() -> None:
    run, test = _block("run-command"), _block("test-command")
    assert len(run) == 1 and len(test) == 1
    assert run[0].endswith("cockpit serve") and "pip install -e ." in run[0]
    assert test[0].endswith("scripts/check.sh") and '".[dev]"' in test[0]
    assert "test-command" in (ROOT / ".ci" / "run").read_text()


def test_settings_table_matches_settings() -> None:
    table = README.split("<!-- settings-table -->")[1].split("<!-- /settings-table -->")[0]
    documented = set(re.findall(r"`COCKPIT_([A-Z_]+)`", table))
    fields = {name.upper() for name in Settings.model_fields}
    assert documented == fields


def test_serve_prints_how_to_talk_to_it(tmp_path: Path) -> None:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("COCKPIT_") or k == "COCKPIT_CLOCK_START"
    }
    env.update(
        {
            "COCKPIT_DATA_DIR": str(tmp_path / "data"),
            "COCKPIT_EMBEDDINGS": "hashing",
            "COCKPIT_LOG_LEVEL": "WARNING",
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ok", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        key = (tmp_path / "data" / "demo.key").read_text().strip()
        r = httpx.post(
            f"http://127.0.0.1:{port}/assistants/search", json={}, headers={"x-api-key": key}
        )
        assert r.status_code == 200 and isinstance(r.json(), list)
        assert oct((tmp_path / "data" / "admin.key").stat().st_mode)[-3:] == "600"
        # The banner's curl line works exactly as printed (it was printed before serving began).
        assert proc.stdout is not None
        banner = []
        while not (line := proc.stdout.readline()).strip().startswith("curl "):
            banner.append(line)
        shown = subprocess.run(
            ["bash", "-c", line.strip()], capture_output=True, text=True, timeout=30
        )
        assert shown.returncode == 0 and json.loads(shown.stdout)[0]["assistant_id"]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    out = "".join(banner) + out
    assert f"serving on http://127.0.0.1:{port}" in out
    assert "Platform admin key (shown once" in out and "ck_" in out
    assert "cockpit chat" in out
