"""Host-side CLI commands (``cockpit keys create``, ``cockpit keys list``) on a fresh data dir,
beside what importing the app costs, measured in the same run.

``keys create`` used to import ``cockpit.app`` (every router, the runtime, LangChain, MCP) to
get the merchant-binding check; the ``import cockpit.app`` row is that cost on its own, so the
figure to read is ``keys create``'s CPU against it (CPU, not wall: the machine is shared).
Each command runs ``--runs`` times as a fresh process on a fresh data dir (so ``keys create``
includes the migrations), interleaved so a busy machine slows all rows alike.

    python benchmarks/cli_host_commands.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_startup import _cockpit, _once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import cockpit.app": [sys.executable, "-c", "import cockpit.app"],
        "cockpit keys create": [*_cockpit(), "keys", "create", "--tenant", "bench"],
        "cockpit keys list": [*_cockpit(), "keys", "list"],
    }
    base = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    wall: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="cockpit-bench-") as data:
            env = {**base, "COCKPIT_DATA_DIR": data}
            for name, argv in commands.items():
                elapsed, used = _once(argv, env)
                wall[name].append(elapsed)
                cpu[name].append(used)
    reference = statistics.median(cpu["import cockpit.app"])
    print(
        json.dumps(
            {
                "benchmark": "cli_host_commands",
                "runs": args.runs,
                "load_avg_1m": round(os.getloadavg()[0], 2),
                "baseline": "import cockpit.app (what keys create imported before)",
                "results": {
                    name: {
                        "cpu_median_s": round(statistics.median(cpu[name]), 3),
                        "wall_median_s": round(statistics.median(wall[name]), 3),
                        "cpu_over_app_import": round(statistics.median(cpu[name]) / reference, 3),
                    }
                    for name in commands
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
