"""CLI start-up: how long ``cockpit --version`` and ``cockpit --help`` take, beside the
interpreter's own start-up measured in the same run; and a command that loads every domain's
tools (``cockpit agents list``), as ``serve`` and every agents command do.

Each command runs ``--runs`` times (default 15) as a fresh process, interleaved so a busy machine
slows all three alike; the figures are median wall times. ``cockpit`` is run as the installed
console script when it sits beside this interpreter (what a user types), else as
``python -m cockpit``. The verdict: every median under 0.5 s (the issue's target); ``over_baseline``
is what the CLI itself costs on top of ``python -c pass``. CPU time (user + system) is reported
too: on a loaded machine it moves far less than wall time. ``cockpit agents list`` has no target
(it is outside the verdict): it shows what registering the tools costs, in a data dir migrated by
its first (warm-up) run.

    python benchmarks/cli_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.5
TOOLS = "cockpit agents list"
"""Loads every domain's tools; outside the verdict."""


def _cockpit() -> list[str]:
    script = Path(sys.executable).with_name("cockpit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cockpit"]


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run."""
    cpu, started = _cpu(), time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()[-500:]}")
    return elapsed, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    data = tempfile.TemporaryDirectory(prefix="cockpit-cli-bench-")
    env["COCKPIT_DATA_DIR"] = data.name
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "cockpit --version": [*_cockpit(), "--version"],
        "cockpit --help": [*_cockpit(), "--help"],
        TOOLS: [*_cockpit(), "agents", "list", "--tenant", "demo"],
    }
    for argv in commands.values():
        _once(argv, env)  # warm the file cache and bytecode
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, argv in commands.items():
            wall, used = _once(argv, env)
            times[name].append(wall)
            cpu[name].append(used)
    median = {name: statistics.median(values) for name, values in times.items()}
    baseline = median["python -c pass"]
    results = {
        name: {
            "median_s": round(median[name], 4),
            "min_s": round(min(times[name]), 4),
            "max_s": round(max(times[name]), 4),
            "over_baseline_s": round(median[name] - baseline, 4),
            "cpu_median_s": round(statistics.median(cpu[name]), 4),
        }
        for name in commands
    }
    data.cleanup()
    cli = [name for name in commands if name.startswith("cockpit") and name != TOOLS]
    print(
        json.dumps(
            {
                "benchmark": "cli_startup",
                "runs": args.runs,
                "command": " ".join(_cockpit()),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "load_avg_1m": round(os.getloadavg()[0], 2),
                "baseline": "python -c pass",
                "results": results,
                "target_s": TARGET_S,
                "verdict": "pass" if all(median[n] < TARGET_S for n in cli) else "fail",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
