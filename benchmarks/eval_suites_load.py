"""Loading the built-in eval suites: CPU seconds of ``load_suites(evals/suites)`` against the
way it read them before (PyYAML's pure-Python safe loader, each chat suite file parsed twice),
measured in the same run. Every ``cockpit eval run``, gate run and eval test pays this once.

    python benchmarks/eval_suites_load.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evals.shopping import SHOP_SCHEMA, parse_shop_suite  # noqa: E402
from evals.suites import SUITES_DIR, load_suites, suite_files  # noqa: E402
from evals.task import parse_suite  # noqa: E402


def baseline() -> list[Any]:
    """The former reading: ``yaml.safe_load`` for the schema, then again for a chat suite."""
    out: list[Any] = []
    for path in suite_files(SUITES_DIR):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("schema") == SHOP_SCHEMA:
            out.append(parse_shop_suite(data, source=str(path)))
        else:
            again = yaml.safe_load(path.read_text(encoding="utf-8"))
            out.append(parse_suite(again, source=str(path)))
    return out


def cpu(fn: Callable[[], list[Any]], repeat: int) -> tuple[float, list[Any]]:
    """The best of ``repeat`` CPU times (the machine is shared: wall time would lie)."""
    best, result = float("inf"), []
    for _ in range(repeat):
        started = time.process_time()
        result = fn()
        best = min(best, time.process_time() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    before, old = cpu(baseline, args.repeat)
    after, new = cpu(lambda: load_suites(SUITES_DIR), args.repeat)
    assert old == new, "both readings must give the same suites"
    print(
        json.dumps(
            {
                "files": len(new),
                "tasks": sum(len(s.tasks) for s in new),
                "baseline_cpu_s": round(before, 3),
                "cpu_s": round(after, 3),
                "speedup": round(before / after, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
