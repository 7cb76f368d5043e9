"""Where the test suite's time goes: a pytest plugin that records each test, and its report.

Record (each xdist worker writes its own ``<worker>.jsonl`` into the folder)::

    COCKPIT_SUITE_PROFILE=/tmp/profile .venv/bin/python -m pytest -p tests.support.suite_profile \\
        -n 2 --dist loadgroup --no-loadscope-reorder -q

Report (JSON: totals, each worker's busy and idle time, files and tests by CPU)::

    .venv/bin/python -m tests.support.suite_profile /tmp/profile [--top 30]

Per test (setup, call and teardown together): wall seconds, the worker's own CPU, the CPU of
child processes reaped while it ran (servers, CLIs, browsers), and the worker's
garbage-collection time. A child's CPU is counted when it is reaped, which is not always by
the test that started it: a module-scoped server counts against the test whose teardown
stopped it (a session-scoped one against the worker's last test), and a child whose ``Popen``
was dropped unwaited against whichever later test starts a process (``subprocess`` reaps such
children then). The total is sound; a test's or a file's ``children`` can hold another's.
One exception: the servers :mod:`tests.support.zygote` forks are children of the worker's
forkserver, which reaps them, so their CPU is in no figure here; for the whole machine, read
``/proc/stat`` before and after the run.
Nothing is recorded unless ``COCKPIT_SUITE_PROFILE`` names a folder, so the plugin can stay
loaded.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import Any, TextIO

import pytest

ENV = "COCKPIT_SUITE_PROFILE"


class _GcClock:
    """CPU seconds spent in garbage collection, and full collections, since it started."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
            return
        self.seconds += time.process_time() - self._started
        self.full += info["generation"] == 2


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


class _Recorder:
    def __init__(self, out: TextIO, worker: str, clock: Callable[[], float]) -> None:
        self.out = out
        self.worker = worker
        self.clock = clock
        """Seconds on a clock every worker shares (``CLOCK_MONOTONIC`` is one per machine)."""
        self.gc = _GcClock()
        gc.callbacks.append(self.gc)

    def write(self, record: dict[str, Any]) -> None:
        self.out.write(json.dumps({"worker": self.worker, **record}) + "\n")
        self.out.flush()

    def close(self) -> None:
        gc.callbacks.remove(self.gc)
        self.out.close()


_recorder: _Recorder | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _recorder
    folder = os.environ.get(ENV)
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    _recorder = _Recorder((Path(folder) / f"{worker}.jsonl").open("a"), worker, time.monotonic)
    _recorder.write({"event": "start", "at": _recorder.clock(), "cpu": time.process_time()})


def pytest_collection_finish(session: pytest.Session) -> None:
    if _recorder is not None:
        _recorder.write(
            {
                "event": "collected",
                "at": _recorder.clock(),
                "cpu": time.process_time(),
                "tests": len(session.items),
            }
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    rec = _recorder
    if rec is None:
        return (yield)
    started, cpu, children = rec.clock(), time.process_time(), _children_cpu()
    gc_s, full = rec.gc.seconds, rec.gc.full
    try:
        return (yield)
    finally:
        rec.write(
            {
                "event": "test",
                "id": item.nodeid,
                "at": started,
                "wall": rec.clock() - started,
                "cpu": time.process_time() - cpu,
                "children": _children_cpu() - children,
                "gc": rec.gc.seconds - gc_s,
                "full_gc": rec.gc.full - full,
            }
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    global _recorder
    if _recorder is None:
        return
    _recorder.write({"event": "end", "at": _recorder.clock(), "cpu": time.process_time()})
    _recorder.close()
    _recorder = None


# ----- the report ---------------------------------------------------------------------------
def _records(folder: Path) -> Iterable[dict[str, Any]]:
    for path in sorted(folder.glob("*.jsonl")):
        with path.open() as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path}:{number}: not a profile record ({exc.msg})") from None


def _r(x: float) -> float:
    return round(x, 2)


def report(folder: Path, *, top: int = 30) -> dict[str, Any]:
    """Totals, per-worker busy/idle time, and the files and tests that cost most CPU."""
    tests: list[dict[str, Any]] = []
    events: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for rec in _records(folder):
        if rec["event"] == "test":
            tests.append(rec)
        else:
            events[rec["worker"]][rec["event"]] = rec
    if not tests:
        raise SystemExit(f"no test records under {folder}: was {ENV} set for the run?")
    workers = {}
    for name, ev in sorted(events.items()):
        own = [t for t in tests if t["worker"] == name]
        if not own:  # xdist's controller runs no test
            continue
        first = ev.get("collected", ev.get("start", {})).get("at", min(t["at"] for t in own))
        last = max(t["at"] + t["wall"] for t in own)
        busy = sum(t["wall"] for t in own)
        workers[name] = {
            "tests": len(own),
            "collection_s": _r(first - ev["start"]["at"]) if "start" in ev else None,
            "span_s": _r(last - first),
            "in_tests_s": _r(busy),
            "between_tests_s": _r(last - first - busy),
            "after_last_test_s": _r(ev["end"]["at"] - last) if "end" in ev else None,
        }
    by_file: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for t in tests:
        row = by_file[t["id"].split("::")[0]]
        for key in ("wall", "cpu", "children", "gc"):
            row[key] += t[key]
        row["tests"] += 1

    def cost(row: dict[str, Any]) -> float:
        return float(row["cpu"] + row["children"])

    return {
        "tests": len(tests),
        "totals": {k: _r(sum(t[k] for t in tests)) for k in ("wall", "cpu", "children", "gc")},
        "full_gc": sum(t["full_gc"] for t in tests),
        "workers": workers,
        "files": [
            {
                "file": f,
                **{k: _r(v) for k, v in row.items() if k != "tests"},
                "tests": int(row["tests"]),
            }
            for f, row in sorted(by_file.items(), key=lambda kv: -cost(kv[1]))[:top]
        ],
        "tests_by_cpu": [
            {k: (_r(v) if isinstance(v, float) else v) for k, v in t.items() if k != "event"}
            for t in sorted(tests, key=cost, reverse=True)[:top]
        ],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    json.dump(report(args.folder, top=args.top), sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
