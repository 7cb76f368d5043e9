"""A partner's setup for the docs tests: their tool package installed, the real app serving.

:func:`install_offline` does what ``pip install --target`` does for a pure-Python package —
the package's modules plus a ``.dist-info`` holding its metadata and the entry points read
from its own ``pyproject.toml`` — without a build backend or the network (tests never reach
PyPI, and building a wheel needs the ``wheel`` package the dev environment does not carry).
The server finds the tools exactly as it finds an installed distribution's: through
``importlib.metadata`` on its path.

:class:`PartnerServer` is a :class:`LiveServer` running the real app (``create_app`` from
settings, the model each spec names — the local planner) instead of the spine test kit.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit.tls import client_context
from tests.support import shared
from tests.support.live import ROOT, LiveServer

EXAMPLE_TOOL = ROOT / "examples" / "partner-tool"
#: The xdist group of the modules that use :func:`partner`.
PARTNER_GROUP = pytest.mark.xdist_group("partner-server")


def install_offline(project: Path, target: Path) -> Path:
    """Install the pure-Python project at ``project`` into ``target``; its dist-info folder."""
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    info = meta["project"]
    name = re.sub(r"[-_.]+", "_", info["name"]).lower()
    find = meta.get("tool", {}).get("setuptools", {}).get("packages", {}).get("find", {})
    src = project / find.get("where", ["."])[0]
    target.mkdir(parents=True, exist_ok=True)
    installed: list[Path] = []
    for package in sorted(p.parent for p in src.glob("*/__init__.py")):
        dest = target / package.name
        shutil.copytree(package, dest, ignore=shutil.ignore_patterns("__pycache__"))
        installed += [p for p in dest.rglob("*") if p.is_file()]
    dist = target / f"{name}-{info['version']}.dist-info"
    dist.mkdir()
    metadata = [
        "Metadata-Version: 2.1",
        f"Name: {info['name']}",
        f"Version: {info['version']}",
        f"Summary: {info.get('description', '')}",
        *(f"Requires-Dist: {d}" for d in info.get("dependencies", [])),
    ]
    (dist / "METADATA").write_text("\n".join(metadata) + "\n", encoding="utf-8")
    groups = info.get("entry-points", {})
    (dist / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()) + "\n"
            for group, points in groups.items()
        ),
        encoding="utf-8",
    )
    (dist / "INSTALLER").write_text("cockpit-tests\n", encoding="utf-8")
    records = [*installed, dist / "METADATA", dist / "entry_points.txt", dist / "INSTALLER"]
    (dist / "RECORD").write_text(
        "".join(f"{p.relative_to(target)},,\n" for p in records)
        + f"{(dist / 'RECORD').relative_to(target)},,\n",
        encoding="utf-8",
    )
    return dist


@dataclass
class PartnerServer(LiveServer):
    """The real app under uvicorn (``cockpit.app:create_app`` from ``COCKPIT_*`` settings)."""

    module: str = "uvicorn"

    def arguments(self) -> list[str]:
        return [
            "cockpit.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]


@dataclass
class Partner:
    """A server with Acme's tool package installed, and what a partner needs to talk to it."""

    server: PartnerServer
    site: Path
    """Where the tool package is installed (on the server's ``PYTHONPATH``)."""

    @property
    def url(self) -> str:
        return self.server.url

    def admin_key(self) -> str:
        """The platform admin key the server wrote at first start."""
        return self.server.key("admin")

    def env(self) -> dict[str, str]:
        """Environment for a partner's shell: the venv first on PATH, the package importable."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{self.site}"
        env["COCKPIT_SERVER_URL"] = self.url
        env["ADMIN_KEY"] = self.admin_key()
        return env


def start_partner(tmp: Path, eval_world: Path | None = None) -> Partner:
    """Start the server on a fresh data dir under ``tmp``; with ``eval_world`` (a seeded eval
    template) in its template cache, so its first eval run copies that world instead of seeding
    one (the same world: the runner looks a template up by its seed and clock)."""
    site = tmp / "site-packages"
    install_offline(EXAMPLE_TOOL, site)
    if eval_world is not None:
        shutil.copytree(eval_world, tmp / "data" / "evals" / eval_world.name)
    server = PartnerServer(
        data_dir=tmp / "data",
        extra_env={
            "PYTHONPATH": f"{ROOT}{os.pathsep}{site}",
            "COCKPIT_DEMO": "false",
            "COCKPIT_LOG_LEVEL": "WARNING",
        },
    )
    return Partner(server.start(), site)


_STARTED: dict[str, Partner] = {}


@pytest.fixture(scope="session")
def partner(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Partner:
    """One partner server for the guides and the journey (each has its own tenant).

    Each module imports this fixture, which makes it one fixture per module to pytest, so the
    server is kept here and stopped when the session ends. The modules are one xdist group, so
    one worker starts it once. The evals' default world, seeded once per run, is in its
    template cache."""
    if "server" not in _STARTED:
        world = shared.eval_world(tmp_path_factory)
        started = start_partner(tmp_path_factory.mktemp("partner"), world)
        request.config.add_cleanup(started.server.stop)
        _STARTED["server"] = started
    return _STARTED["server"]


def call(
    partner: Partner, key: str, method: str, path: str, *, timeout: float = 60.0, **kw: Any
) -> httpx.Response:
    """One REST call as ``key``."""
    headers = {"x-api-key": key, **kw.pop("headers", {})}
    return httpx.request(
        method,
        partner.url + path,
        headers=headers,
        timeout=timeout,
        verify=client_context(),
        **kw,
    )


__all__ = [
    "EXAMPLE_TOOL",
    "PARTNER_GROUP",
    "Partner",
    "PartnerServer",
    "call",
    "install_offline",
    "partner",
    "start_partner",
]
