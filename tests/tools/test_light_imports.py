"""Registering the domain tools and building the app loads no model library.

Every ``cockpit`` command that lists agents, every server start and every ``python -m cockpit``
child in the tests imports the tool modules and the composition root. LightGBM, scikit-learn,
SciPy and pandas (~2-3 s of CPU together) belong to scoring, training and backtests, so they
load when a tool first runs, not when it registers. Each probe runs in a fresh interpreter:
this process has imported them long ago for other tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL_LIBRARIES = ("lightgbm", "sklearn", "scipy", "pandas")


def _loaded_after(*steps: tuple[str, ...]) -> list[list[str]]:
    """Which of :data:`MODEL_LIBRARIES` a fresh interpreter holds after each step's imports
    (the steps run in order, in one interpreter)."""
    probe = (
        "import importlib, json, sys\n"
        "seen = []\n"
        f"for step in {steps!r}:\n"
        "    for name in step:\n"
        "        importlib.import_module(name)\n"
        f"    seen.append(sorted(m for m in {MODEL_LIBRARIES!r} if m in sys.modules))\n"
        "print(json.dumps(seen))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded: list[list[str]] = json.loads(done.stdout)
    return loaded


# Each probe ends by importing the domain's service, which does need the libraries: were the
# probe blind to them, the first step's empty list would prove nothing.


def test_fraud_tools_router_and_app_load_no_model_library() -> None:
    registering = ("tools.fraud.tools", "tools.fraud.router", "tools.fraud.demo", "cockpit.app")
    first, scoring = _loaded_after(registering, ("tools.fraud.service",))
    assert first == []
    assert scoring == sorted(MODEL_LIBRARIES)


def test_credit_tools_load_no_scipy_or_model_library() -> None:
    first, deciding = _loaded_after(("tools.credit.tools",), ("tools.credit.service",))
    # pandas stays: the credit scorecard, catalogue and activity modules build on it.
    assert first == ["pandas"]
    assert "scipy" in deciding
