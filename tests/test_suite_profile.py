"""The suite profiler records each test with its own and its children's CPU, and reports it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.live import ROOT
from tests.support.suite_profile import ENV, report

_TESTS = """
import subprocess, sys

def test_spawns_a_busy_child():
    subprocess.run([sys.executable, "-c", "sum(range(20_000_000))"], check=True)

def test_does_little():
    assert sum(range(10)) == 45
"""


def _pytest(suite: Path, profile: Path | None) -> None:
    """Run pytest on ``suite`` with the plugin loaded (recording into ``profile`` if given)."""
    env = {k: v for k, v in os.environ.items() if k not in (ENV, "PYTEST_XDIST_WORKER")}
    env["PYTHONPATH"] = str(ROOT)
    if profile is not None:
        env[ENV] = str(profile)
    plugin = "tests.support.suite_profile"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", plugin, str(suite)],
        cwd=suite,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_run_is_recorded_and_reported(tmp_path: Path) -> None:
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "test_two.py").write_text(_TESTS)
    _pytest(tmp_path / "suite", tmp_path / "profile")

    got = report(tmp_path / "profile")
    assert got["tests"] == 2
    by_name = {t["id"].rsplit("::", 1)[1]: t for t in got["tests_by_cpu"]}
    busy, idle = by_name["test_spawns_a_busy_child"], by_name["test_does_little"]
    assert busy["children"] > 0.1 > idle["children"]
    assert got["tests_by_cpu"][0]["id"].endswith("test_spawns_a_busy_child")
    assert got["workers"]["main"]["tests"] == 2
    assert got["workers"]["main"]["between_tests_s"] >= 0
    assert [f["file"] for f in got["files"]] == ["test_two.py"]


def test_a_run_without_the_variable_records_nothing(tmp_path: Path) -> None:
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    _pytest(tmp_path, None)
    assert list(tmp_path.rglob("*.jsonl")) == []
