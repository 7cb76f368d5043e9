"""Start and stop a real Cockpit server process on 127.0.0.1 for tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx
import uvicorn

from cockpit.tls import client_context
from tests.support import zygote
from tests.support.migrated import migrated_sqlite_file

ROOT = Path(__file__).resolve().parents[2]


def clock_now() -> dict[str, str]:
    """Environment that starts a server's clock exactly where this process's clock reads now.

    ``COCKPIT_CLOCK_START`` alone starts the server's clock when the server gets to its settings,
    after its imports: seconds later on a busy machine, so the server runs that much behind the
    test. ``COCKPIT_TEST_CLOCK_ORIGIN`` is the monotonic instant the start was read at
    (``CLOCK_MONOTONIC`` is one clock for every process on the machine); ``tests.support.serve``
    counts the server's clock from it."""
    from cockpit.clock import utcnow

    origin = time.monotonic()
    return {"COCKPIT_CLOCK_START": utcnow().isoformat(), "COCKPIT_TEST_CLOCK_ORIGIN": repr(origin)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(app: Any, *, name: str = "app", timeout: float = 60.0) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 in a thread of this process; its URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"{name}-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {name} server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@dataclass(frozen=True)
class ServedApp:
    """A served app's URL and data dir (what a test of a :class:`LiveServer` reads of it)."""

    url: str
    data_dir: Path

    def key(self, name: str = "demo") -> str:
        return (self.data_dir / f"{name}.key").read_text().strip()


@contextmanager
def spine_served(data_dir: Path, database_url: str | None = None) -> Iterator[ServedApp]:
    """The app :mod:`tests.support.serve` runs (spine test kit, rule model), served over TCP by
    uvicorn in a thread of this process: for tests of what goes over the wire, not of the
    process. (A server child, even forked pre-imported by :mod:`tests.support.zygote`, takes
    ~1.1-1.5 CPU-s to ready on this machine.)"""
    from cockpit.app import create_app
    from cockpit.config import Settings
    from tests.support.spinekit import AGENTS_DIR, rule_model_factory

    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        agents_path=[AGENTS_DIR],
        tool_modules=["tests.support.spinekit"],
        embeddings="hashing",
        warmup=False,
    )
    app = create_app(settings, model_factory=rule_model_factory())
    with served(app, name="spine") as url:
        yield ServedApp(url, data_dir)


@dataclass
class LiveServer:
    data_dir: Path
    database_url: str | None = None
    port: int = field(default_factory=free_port)
    proc: zygote.Forked | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    module: str = "tests.support.serve"
    """What the server process runs: the test kit's app (rule model), or ``cockpit`` itself."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("COCKPIT_") or k == "COCKPIT_CLOCK_START"
        }
        env.update(
            {
                "COCKPIT_DATA_DIR": str(self.data_dir),
                "PYTHONPATH": str(ROOT),
                "COCKPIT_EMBEDDINGS": "hashing",
                "COCKPIT_WARMUP": "false",
            }
        )
        if self.database_url:
            env["COCKPIT_DATABASE_URL"] = self.database_url
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 180.0) -> Self:
        """Start the process and wait until it answers ``/ok``. The wait is long: on a loaded
        machine (2 cores at load 14-20, seen in full runs) its imports alone took over a minute."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        database = self.data_dir / "cockpit.db"
        if self.database_url is None and not database.exists():
            # Its default SQLite file, at the newest schema: migrations are not what it tests.
            migrated_sqlite_file(database)
        self.proc = zygote.start(
            self.module,
            self.arguments(),
            env=self.env(),
            cwd=ROOT,
            log=self.data_dir / "server.log",
        )
        deadline = time.monotonic() + timeout
        # One client for the whole wait: each new one would load the CA bundle again.
        with httpx.Client(timeout=1.0, verify=client_context()) as probe:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"server exited early: {(self.data_dir / 'server.log').read_text()[-3000:]}"
                    )
                try:
                    if probe.get(self.url + "/ok").status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        self.kill()  # the test fails here and never stops it: it would serve on, orphaned
        raise RuntimeError("server did not become ready")

    def arguments(self) -> list[str]:
        """What follows ``python -m MODULE``."""
        if self.module == "cockpit":
            return ["serve", "--port", str(self.port)]
        return [str(self.port)]

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing — a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def key(self, name: str = "demo") -> str:
        return (self.data_dir / f"{name}.key").read_text().strip()


def start_together(servers: list[LiveServer], *, timeout: float = 240.0) -> None:
    """Start every server at the same moment (workers racing to migrate and bootstrap one
    fresh database, as a deployment's do); raises the first failure once all have tried."""
    errors: list[BaseException] = []

    def start(server: LiveServer) -> None:
        try:
            server.start(timeout=timeout)
        except BaseException as exc:  # re-raised below, in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
