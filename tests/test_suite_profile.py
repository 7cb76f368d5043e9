"""The suite profiler records each test with its own and its children's CPU, and reports it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_the_report_reads_workers_idle_time_and_ranks_by_cpu(tmp_path: Path) -> None:
    def test(worker: str, name: str, at: float, wall: float, cpu: float, children: float) -> str:
        return json.dumps(
            {"worker": worker, "event": "test", "id": f"tests/test_{name}.py::t", "at": at}
            | {"wall": wall, "cpu": cpu, "children": children, "gc": 0.1, "full_gc": 1}
        )

    def event(worker: str, kind: str, at: float) -> str:
        return json.dumps({"worker": worker, "event": kind, "at": at, "cpu": 0.0})

    (tmp_path / "gw0.jsonl").write_text(
        "\n".join(
            [
                event("gw0", "start", 100.0),
                event("gw0", "collected", 108.0),
                test("gw0", "a", 108.0, 2.0, 1.5, 0.0),
                test("gw0", "b", 111.0, 1.0, 0.2, 4.0),  # 1 s after a ended
                event("gw0", "end", 112.5),
            ]
        )
    )
    (tmp_path / "main.jsonl").write_text(event("main", "start", 99.0))  # the controller

    got = report(tmp_path, top=1)
    assert got["tests"] == 2 and got["full_gc"] == 2
    assert got["totals"] == {"wall": 3.0, "cpu": 1.7, "children": 4.0, "gc": 0.2}
    assert got["workers"] == {
        "gw0": {
            "tests": 2,
            "collection_s": 8.0,
            "span_s": 4.0,
            "in_tests_s": 3.0,
            "between_tests_s": 1.0,
            "after_last_test_s": 0.5,
        }
    }
    assert [f["file"] for f in got["files"]] == ["tests/test_b.py"]
    assert [t["id"] for t in got["tests_by_cpu"]] == ["tests/test_b.py::t"]


def test_a_torn_record_is_named_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "gw0.jsonl").write_text('{"worker": "gw0", "event": "start"}\n{"worker": "gw')
    with pytest.raises(SystemExit, match=r"gw0\.jsonl:2: not a profile record"):
        report(tmp_path)


def test_an_empty_folder_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=ENV):
        report(tmp_path)
