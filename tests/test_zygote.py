"""A forked server process is set up as ``python -m`` would set it up (tests.support.zygote)."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import zygote

PROBE = """
import json, os, sys
print(json.dumps({
    "name": __name__,
    "argv": sys.argv[1:],
    "cwd": os.getcwd(),
    "path": sys.path[:2],
    "preloaded": sorted(m for m in ("tests.support.serve", "cockpit.cli") if m in sys.modules),
    "env": {k: v for k, v in os.environ.items() if k.startswith("PROBE_") or k == "HOME"},
}))
sys.stdout.flush()
print("to stderr", file=sys.stderr)
if sys.argv[1] == "wait":
    import time
    time.sleep(60)
sys.exit(int(sys.argv[1]) if sys.argv[1].isdigit() else 0)
"""


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    """A directory holding ``zygote_probe``, importable only through PYTHONPATH."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "zygote_probe.py").write_text(PROBE, encoding="utf-8")
    return site


def _start(probe: Path, tmp_path: Path, *args: str) -> tuple[zygote.Forked, Path]:
    log = tmp_path / "probe.log"
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    env = {"PROBE_ONLY": "this", "PYTHONPATH": str(probe)}
    return zygote.start("zygote_probe", list(args), env=env, cwd=work, log=log), log


def test_the_child_runs_the_module_as_main_with_what_it_was_given(
    probe: Path, tmp_path: Path
) -> None:
    os.environ["PROBE_FROM_THE_TEST"] = "leaks?"
    try:
        child, log = _start(probe, tmp_path, "3", "--flag")
        assert child.wait(60) == 3
    finally:
        del os.environ["PROBE_FROM_THE_TEST"]
    first, second = log.read_text(encoding="utf-8").splitlines()
    seen = json.loads(first)
    assert seen["name"] == "__main__"
    assert seen["argv"] == ["3", "--flag"]
    assert seen["cwd"] == str(tmp_path / "work")
    # The environment is replaced whole: nothing of the test process's, no HOME it was not given.
    assert seen["env"] == {"PROBE_ONLY": "this"}
    # Working directory first, then PYTHONPATH, as ``python -m`` orders them.
    assert seen["path"] == [str(tmp_path / "work"), str(probe)]
    # What the fork saves: the server's modules were imported before it, once per worker.
    assert seen["preloaded"] == ["cockpit.cli", "tests.support.serve"]
    assert second == "to stderr"
    assert child.poll() == 3


def test_signals_reach_the_child_and_its_status_says_so(probe: Path, tmp_path: Path) -> None:
    child, _ = _start(probe, tmp_path, "wait")
    with pytest.raises(subprocess.TimeoutExpired):
        child.wait(0.2)
    assert child.poll() is None
    child.send_signal(signal.SIGKILL)
    assert child.wait(30) == -signal.SIGKILL
    assert child.pid != os.getpid()


def test_every_preloaded_module_exists() -> None:
    """The forkserver skips a preload it cannot import without a word, and the saving with it."""
    assert [name for name in zygote.PRELOAD if importlib.util.find_spec(name) is None] == []


def test_a_worker_that_exits_with_a_server_running_stops_it(probe: Path, tmp_path: Path) -> None:
    """multiprocessing joins its children at exit; a server still serving would hold the test
    worker there forever. The worker here is a small interpreter with nothing preloaded."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from tests.support import zygote\n"
        "zygote._context.set_forkserver_preload([])\n"
        "tmp, site = Path(sys.argv[1]), sys.argv[2]\n"
        "env = {'PYTHONPATH': site}\n"
        "child = zygote.start('zygote_probe', ['wait'], env=env, cwd=tmp, log=tmp / 'log')\n"
        "while not (tmp / 'log').exists() or not (tmp / 'log').read_text():\n"
        "    time.sleep(0.02)\n"  # serving (the probe's first line is out), then exit
        "print(child.pid, flush=True)\n"
    )
    worker = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), str(probe)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=60,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    pid = int(worker.stdout)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
