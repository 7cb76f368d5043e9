"""The CLI starts without the heavy stacks: what it imports, not how long it takes (that is
``benchmarks/cli_startup.py``), so the test cannot flake on a busy machine."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from cockpit.cli import DOMAIN_CLIS, app, mount_domain_clis

ROOT = Path(__file__).resolve().parents[2]
HEAVY: tuple[str, ...] = (
    "lightgbm",
    "langgraph",
    "langchain_core",
    "chromadb",
    "fastapi",
    "pandas",
    "numpy",
)
HEAVY += ("sqlalchemy", "httpx", "statsforecast", "sklearn", "pydantic_settings")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}


def _imported(*args: str) -> set[str]:
    """Top-level modules a ``cockpit`` run imports, from ``python -X importtime``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cockpit", *args],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)", done.stderr, re.M)
    assert "cockpit.cli" in names
    return {name.split(".")[0] for name in names}


def _loaded_by(module: str, candidates: tuple[str, ...]) -> list[str]:
    """Which of ``candidates`` a fresh interpreter has loaded after importing ``module``."""
    probe = (
        f"import json, sys; import {module}; "
        f"print(json.dumps(sorted(m for m in {candidates!r} if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=_env(), cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_importing_the_cli_loads_no_heavy_stack() -> None:
    assert _loaded_by("cockpit.cli", HEAVY) == []


def test_host_agent_commands_find_agents_and_tools_without_the_app() -> None:
    """``cockpit agents …`` gets the agent folders, tools and eval runner from
    ``cockpit.discovery``: the app would add every router, the runtime and LangGraph."""
    app_only = ("cockpit.app", "cockpit.api", "cockpit.runtime", "fastapi", "langgraph", "mcp")
    assert _loaded_by("cockpit.discovery", app_only) == []


@pytest.mark.parametrize("args", [("--version",), ("--help",)])
def test_version_and_help_import_no_domain(args: tuple[str, ...]) -> None:
    loaded = _imported(*args)
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    assert loaded.isdisjoint({"tools", "knowledge", "evals", "agents"})


def test_help_lists_every_domain_without_importing_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cockpit", "--help"],
        capture_output=True,
        text=True,
        env={**_env(), "COLUMNS": "200"},
        cwd=ROOT,
    )
    assert done.returncode == 0
    for name, (_module, help_line) in DOMAIN_CLIS.items():
        assert re.search(rf"{name}\s+{re.escape(help_line)}", done.stdout), name


def test_domain_help_lines_match_their_apps() -> None:
    """The help repeated in DOMAIN_CLIS (so ``--help`` imports nothing) is each app's own."""
    import importlib

    for name, (module_name, help_line) in DOMAIN_CLIS.items():
        sub = importlib.import_module(module_name).app
        assert isinstance(sub, typer.Typer)
        assert sub.info.help == help_line, name


def test_an_invoked_domain_is_mounted_for_real() -> None:
    mount_domain_clis(every=True)
    names = {group.name for group in app.registered_groups}
    assert set(DOMAIN_CLIS) <= names


@pytest.mark.parametrize("domain", sorted(DOMAIN_CLIS))
def test_a_domain_help_imports_no_heavy_stack(domain: str) -> None:
    """``cockpit fraud --help`` lists its commands without loading LightGBM (and so on)."""
    loaded = _imported(domain, "--help")
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_domain_packages_import_lazily_and_export_everything() -> None:
    """Importing a domain package costs nothing heavy; every name in its ``__all__`` resolves."""
    packages = ["tools.fraud", "tools.fx", "tools.credit", "tools.payments", "knowledge", "evals"]
    probe = (
        "import importlib, json, sys\n"
        f"mods = [importlib.import_module(p) for p in {packages!r}]\n"
        f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "missing = [f'{m.__name__}.{n}' for m in mods for n in m.__all__ if not hasattr(m, n)]\n"
        "print(json.dumps({'heavy': heavy, 'missing': missing}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=_env(), cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"heavy": [], "missing": []}


def test_the_credit_cli_names_the_catalogue_scorecards() -> None:
    from tools.credit import catalog, cli

    assert cli.SCORECARDS == catalog.SCORECARDS
