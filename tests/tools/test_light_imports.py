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

import pytest

from tests.support.migrated import migrated_sqlite_file

#: Each probe is a fresh interpreter importing the app: seconds each, so scheduled early.
pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
MODEL_LIBRARIES = ("lightgbm", "sklearn", "scipy", "pandas")


def _loaded_after(
    *steps: tuple[str, ...], watch: tuple[str, ...] = MODEL_LIBRARIES
) -> list[list[str]]:
    """Which of ``watch`` (modules) a fresh interpreter holds after each step's imports (the
    steps run in order, in one interpreter)."""
    probe = (
        "import importlib, json, sys\n"
        "seen = []\n"
        f"for step in {steps!r}:\n"
        "    for name in step:\n"
        "        importlib.import_module(name)\n"
        f"    seen.append(sorted(m for m in {watch!r} if m in sys.modules))\n"
        "print(json.dumps(seen))\n"
    )
    return _run(probe)


def _run(probe: str) -> list[list[str]]:
    """Run ``probe`` in a fresh interpreter; the JSON it prints."""
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


def test_credit_tools_load_no_pandas_scipy_or_model_library() -> None:
    # Data frames wait for a training or a backtest; the service's metrics bring SciPy.
    registering, deciding, training = _loaded_after(
        ("tools.credit.tools",), ("tools.credit.service",), ("tools.credit.training",)
    )
    assert registering == []
    assert deciding == ["scipy"]
    assert training == ["pandas", "scipy", "sklearn"]


def test_fx_tools_and_router_load_no_forecasting_or_ecb_table() -> None:
    # SciPy's stats module still loads through tools.fx.schemas (its default quantiles live in
    # tools.fx.models); the forecasting, interval and ECB modules wait for a request, and
    # pandas for a statistical model (the ECB table is read with numpy alone).
    forecasting = ("scipy.signal", "tools.fx.ecb", "tools.fx.forecast", "tools.fx.intervals")
    first, serving = _loaded_after(
        ("tools.fx.tools", "tools.fx.router"),
        ("tools.fx.service",),
        watch=(*forecasting, "pandas"),
    )
    assert first == []
    assert serving == sorted(forecasting)


def test_building_and_starting_the_app_loads_no_model_libraries(tmp_path: Path) -> None:
    """``create_app`` and its whole lifespan (schema check, demo tenant, every domain's wiring
    and start-up hook) with warm-ups off: the fraud model, and with it LightGBM, scikit-learn,
    SciPy and pandas, loads when a payment is first scored (credit and FX load SciPy on first
    use too); Chroma's client when the knowledge store is first opened. The payments gateway's
    ECB rates are read at start without pandas. The database is already at the newest schema,
    as at every start but the first, so Alembic stays unloaded too."""
    fraud_libraries = ("chromadb", "lightgbm", "pandas", "sklearn", "scipy")
    data = tmp_path / "data"
    data.mkdir()
    migrated_sqlite_file(data / "cockpit.db")
    probe = (
        "import asyncio, json, sys\n"
        "from cockpit.app import create_app\n"
        "from cockpit.config import Settings\n"
        f"app = create_app(Settings(data_dir={str(data)!r}, warmup=False))\n"
        "seen = []\n"
        "async def start() -> None:\n"
        "    async with app.router.lifespan_context(app):\n"
        f"        seen.append(sorted(m for m in {(*fraud_libraries, 'alembic')!r} if m in sys.modules))\n"
        "asyncio.run(start())\n"
        "import tools.fraud.service, knowledge.store\n"
        f"seen.append(sorted(m for m in {fraud_libraries!r} if m in sys.modules))\n"
        "print(json.dumps(seen))\n"
    )
    started, scoring = _run(probe)
    assert started == []
    assert scoring == sorted(fraud_libraries)


def test_the_mcp_sdk_loads_with_the_first_authenticated_mcp_request(tmp_path: Path) -> None:
    """The MCP SDK's server side and the protocol's types wait for ``/mcp`` to be used: not at
    start, not for a request without a valid key (refused before anything loads), then a real
    ``initialize`` is answered by the session manager that request started."""
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "probe", "version": "1"},
        },
    }
    probe = (
        "import json, sys\n"
        "from fastapi.testclient import TestClient\n"
        "from cockpit.app import create_app\n"
        "from cockpit.config import Settings\n"
        f"app = create_app(Settings(data_dir={str(tmp_path / 'data')!r}, warmup=False))\n"
        "loaded = lambda: sorted(m for m in ('mcp', 'mcp_types') if m in sys.modules)\n"
        "seen = []\n"
        "head = {'accept': 'application/json, text/event-stream'}\n"
        "with TestClient(app) as client:\n"
        "    seen.append(loaded())\n"
        f"    refused = client.post('/mcp', json={initialize!r}, headers=head)\n"
        "    seen.append([refused.status_code, refused.json()['code'], *loaded()])\n"
        "    key = app.state.bootstrap_keys['admin']\n"
        f"    done = client.post('/mcp', json={initialize!r}, headers={{**head, 'x-api-key': key}})\n"
        "    seen.append([done.status_code, done.json()['result']['serverInfo']['name'], *loaded()])\n"
        "print(json.dumps(seen))\n"
    )
    started, refused, answered = _run(probe)
    assert started == []
    assert refused == [401, "missing_api_key"]
    assert answered == [200, "cockpit", "mcp", "mcp_types"]
