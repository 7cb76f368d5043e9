"""What the HTTP benchmarks share: a free port, a server's CPU seconds, a ``cockpit serve`` child.

On a shared machine wall-clock rates fall with the load average while a server's CPU seconds
per request hardly move, so every HTTP benchmark reads both (``/proc``, Linux only).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc), in seconds; NaN once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def wait_for_port(port: int, *, seconds: float = 120.0) -> None:
    """Return once something accepts connections on ``port``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {seconds} s")


def start_serve(
    data_dir: Path, port: int, *, settings: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``cockpit serve`` (one worker, no demo, no warm-up, no pollers) in a throw-away data dir.

    ``settings`` are further ``COCKPIT_*`` variables; without ``COCKPIT_DATABASE_URL`` the
    server uses SQLite in ``data_dir``.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "COCKPIT_DATA_DIR": str(data_dir),
        "COCKPIT_WARMUP": "false",
        "COCKPIT_DEMO": "false",
        "COCKPIT_LOG_LEVEL": "WARNING",
        "COCKPIT_CRON_POLL_S": "0",
        "COCKPIT_MONITORS_POLL_S": "0",
        **(settings or {}),
    }
    command = [sys.executable, "-m", "cockpit", "serve", "--no-demo", "--port", str(port)]
    return subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


__all__ = ["ROOT", "cpu_seconds", "free_port", "start_serve", "wait_for_port"]
