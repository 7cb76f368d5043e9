"""Run the ``cockpit`` command as a user does: in a child process, or in the test's own process.

A child ``python -m cockpit agents …`` spends ~6 s of CPU importing the app and every tool
package before it does anything (three times that on a loaded CI machine), and a CLI test runs
eight of them. The test process has those imports already, so a step whose subject is the
command's effect (a version stored, an alias moved) runs in process through typer's runner,
with the same argv, environment and data dir; a step whose subject is the process boundary
(exit code and stderr of the real ``python -m cockpit``, no traceback) keeps the child.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cli_env(data: Path) -> dict[str, str]:
    """The environment a user's shell would give: no test-run ``COCKPIT_*`` settings, this data
    dir (the test clock's start is kept so crons and expiries agree with the test)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("COCKPIT_") or k == "COCKPIT_CLOCK_START"
    }
    env["COCKPIT_DATA_DIR"] = str(data)
    return env


def cockpit_process(
    data: Path, *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """``python -m cockpit <args>`` in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        capture_output=True,
        text=True,
        env=cli_env(data),
        cwd=ROOT,
        timeout=timeout,
    )


def cockpit_in_process(
    data: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The same command through typer's runner in this process, as a ``CompletedProcess``;
    ``env`` is set on top of :func:`cli_env` for the call."""
    from typer.testing import CliRunner

    from cockpit.cli import app, mount_domain_clis

    # Every domain's real commands: a name-only stand-in mounted on the shared app would stay
    # for the rest of the process (mounting skips names already there), and a later test of
    # the command tree would see it instead of the domain's commands.
    mount_domain_clis(every=True)
    wanted = {**cli_env(data), **(env or {})}
    # The runner sets these for the call and restores them after; None removes a variable.
    call_env: dict[str, str | None] = {k: None for k in os.environ if k not in wanted}
    call_env.update(wanted)
    with _logging_kept():
        result = CliRunner().invoke(app, list(args), env=call_env, catch_exceptions=False)
    return subprocess.CompletedProcess(
        ["cockpit", *args], result.exit_code, result.stdout, result.stderr
    )


@contextmanager
def _logging_kept() -> Iterator[None]:
    """Put the logging set-up back after a command that configures it (``serve`` routes every
    logger to a handler on its stderr, which the runner closes when the call returns). Loggers
    first made during the call keep what their libraries gave them."""

    def loggers() -> list[logging.Logger]:
        found = logging.Logger.manager.loggerDict.values()
        return [logging.getLogger(), *(x for x in found if isinstance(x, logging.Logger))]

    kept = {id(x): (x.level, x.handlers[:], x.propagate) for x in loggers()}
    try:
        yield
    finally:
        for logger in loggers():
            if id(logger) not in kept:
                continue
            level, handlers, propagate = kept[id(logger)]
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.propagate = propagate


__all__ = ["ROOT", "cli_env", "cockpit_in_process", "cockpit_process"]
