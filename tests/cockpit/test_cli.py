"""The CLI as a user runs it: version, keys, audit verify (with tampering), chat against a live server."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import ROOT, cli_env, cockpit_in_process, cockpit_process
from tests.support.live import spine_served
from tests.support.spinekit import read_payouts


def cockpit(data: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return cockpit_process(data, *args, timeout=timeout)


def test_version(tmp_path: Path) -> None:
    out = cockpit(tmp_path, "--version")
    assert out.returncode == 0 and out.stdout.strip().startswith("cockpit 0.")


def test_keys_and_audit_verify(tmp_path: Path) -> None:
    # The commands' effects, run in process (each child paid ~1.3 CPU-s of imports for a
    # command that takes a tenth of that); the real process's exit codes and one-line errors
    # are checked in test_cli_errors and by the bad spec below.
    here = cockpit_in_process
    made = here(
        tmp_path, "keys", "create", "--tenant", "acme", "--role", "merchant", "--name", "ops"
    )
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("ck_")
    listed = here(tmp_path, "keys", "list", "--tenant", "acme")
    key_id = secret.split("_")[1]
    assert key_id in listed.stdout and secret.split("_", 2)[2] not in listed.stdout
    assert here(tmp_path, "keys", "revoke", key_id).returncode == 0
    assert "yes" in here(tmp_path, "keys", "list", "--tenant", "acme").stdout
    assert here(tmp_path, "keys", "revoke", "nosuchkey").returncode == 3  # names nothing
    assert here(tmp_path, "keys", "create", "--tenant", "acme", "--role", "god").returncode == 2

    from cockpit.audit.log import AuditLog
    from cockpit.db.session import Database

    db = Database(f"sqlite:///{tmp_path / 'cockpit.db'}")
    for i in range(3):
        AuditLog(db).record("acme", kind="test", actor="t", subject="s", payload={"i": i})
    ok = here(tmp_path, "audit", "verify")
    assert ok.returncode == 0 and "acme: 3 records" in ok.stdout
    with sqlite3.connect(tmp_path / "cockpit.db") as conn:
        conn.execute("UPDATE audit_records SET actor = 'someone-else' WHERE seq = 2")
    bad = here(tmp_path, "audit", "verify", "--tenant", "acme")
    assert bad.returncode == 1 and "record edited at record 2" in bad.stdout
    with sqlite3.connect(tmp_path / "cockpit.db") as conn:
        conn.execute("UPDATE audit_records SET actor = 't' WHERE seq = 2")
        conn.execute("DELETE FROM audit_records WHERE seq = 3")
    gone = here(tmp_path, "audit", "verify", "--tenant", "acme")
    assert gone.returncode == 1 and "newest records removed" in gone.stdout


def test_keys_create_checks_merchant_bindings_without_importing_the_app(tmp_path: Path) -> None:
    # The binding check comes from the payments domain's own module; importing cockpit.app for
    # it (every router, the runtime, LangChain) cost each `keys create` ~8 s of CPU.
    made = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cockpit", "keys", "create", "--tenant", "acme"],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path),
        cwd=ROOT,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr[-2000:]
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in made.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "tools.payments.binding" in imported and "cockpit.app" not in imported
    unbound = cockpit_in_process(
        tmp_path, "keys", "create", "--tenant", "acme", "--merchant", "nosuch"
    )
    assert unbound.returncode == 3 and "no merchant 'nosuch'" in unbound.stderr


@pytest.mark.slow
def test_chat_streams_and_handles_approval(tmp_path: Path) -> None:
    # The real `cockpit chat` child against the app served from this process (its subject is
    # the chat over HTTP; a server child would be one more process to start).
    env_data = tmp_path / "data"
    with spine_served(env_data) as server:
        out = cockpit(
            env_data,
            "chat",
            "--url",
            server.url,
            "--assistant",
            "spine",
            "-m",
            "note hello there",
            "-m",
            "pay 150.00 USD to bob",
            "--approve",
            "approve",
        )
    assert out.returncode == 0, out.stderr
    assert "hello there" in out.stdout
    assert "approval needed" in out.stdout and "spine_payout" in out.stdout
    assert "po_1" in out.stdout
    assert len(read_payouts(env_data)) == 1
    # The host-side admin key is retrievable, and only from the data dir.
    admin = cockpit_in_process(env_data, "keys", "admin")
    assert admin.returncode == 0 and admin.stdout.startswith("ck_")


def test_agents_cli_submit_publish_rollback(tmp_path: Path) -> None:
    # Each step's subject is the command's effect, so it runs in process; the bad file keeps the
    # real child process: its exit code and one-line stderr are what a user sees.
    spec = tmp_path / "agent.yaml"
    body = (
        "id: cli-agent\nname: {name}\ndescription: An agent submitted from the command line.\n"
        "instructions: hi\nmodel: local:planner\ntools: [{{name: search_knowledge}}]\n"
    )
    spec.write_text(body.format(name="First"))
    assert (
        cockpit_in_process(tmp_path, "agents", "submit", str(spec), "--tenant", "acme").returncode
        == 0
    )
    spec.write_text(body.format(name="Second"))
    assert (
        "version 2 stored"
        in cockpit_in_process(tmp_path, "agents", "submit", str(spec), "--tenant", "acme").stdout
    )
    versions = cockpit_in_process(
        tmp_path, "agents", "versions", "cli-agent", "--tenant", "acme"
    ).stdout
    assert "v1" in versions and "v2" in versions
    assert (
        cockpit_in_process(
            tmp_path, "agents", "alias", "cli-agent", "live", "2", "--tenant", "acme"
        ).returncode
        == 0
    )
    listed = cockpit_in_process(tmp_path, "agents", "list", "--tenant", "acme").stdout
    assert "Second" in listed
    assert (
        cockpit_in_process(
            tmp_path, "agents", "alias", "cli-agent", "live", "1", "--tenant", "acme"
        ).returncode
        == 0
    )
    assert "First" in cockpit_in_process(tmp_path, "agents", "list", "--tenant", "acme").stdout
    spec.write_text(body.format(name="Bad").replace("search_knowledge", "no_such_tool"))
    bad = cockpit(tmp_path, "agents", "submit", str(spec), "--tenant", "acme")
    # A bad file is the user's to fix: exit 3, one line naming the field, with a suggestion.
    assert bad.returncode == 3 and "unknown_tool" in bad.stderr
    assert "tools.0.name" in bad.stderr and "Traceback" not in bad.stderr
