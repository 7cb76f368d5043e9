"""The audit chain is keyed: a database writer without the key cannot rewrite it unnoticed.

The attacker here can run any SQL: it edits a record's payload and recomputes every hash after it
(and the head row), with plain SHA-256 as the chain used to be, or with a key of its own. Keys
rotate without breaking older records; a signed head exported earlier (an anchor) catches
truncation and even a rewrite by someone who holds the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cockpit.audit import (
    AuditKeyError,
    AuditKeyring,
    AuditLog,
    SignedHead,
    keyring_for,
    verify,
)
from cockpit.audit.models import AuditHead, AuditRecord
from cockpit.audit.verify import sign_head
from cockpit.config import Settings
from cockpit.db.migrate import upgrade
from cockpit.db.session import Database
from cockpit.tenancy.keys import KeyService
from tests.support.apptest import running_app

ROOT = Path(__file__).resolve().parents[2]
K1 = AuditKeyring.parse("k1:first-secret-0123456789abcdef")
K2_K1 = AuditKeyring.parse("k2:second-secret-0123456789abcdef,k1:first-secret-0123456789abcdef")
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)

Hasher = Callable[[AuditRecord, str], str]


def _fields(r: AuditRecord) -> dict[str, Any]:
    return {
        "tenant": r.tenant_id,
        "seq": r.seq,
        "ts": r.ts,
        "kind": r.kind,
        "actor": r.actor,
        "subject": r.subject,
        "payload": r.payload,
    }


def _json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def sha256_chain(r: AuditRecord, prev: str) -> str:
    """What the unkeyed chain computed: anyone with the database can do it."""
    return hashlib.sha256((prev + _json(_fields(r))).encode()).hexdigest()


def hmac_chain(secret: bytes) -> Hasher:
    """The keyed scheme, computed by whoever holds ``secret`` (right key or not)."""

    def digest(r: AuditRecord, prev: str) -> str:
        body = _json(_fields(r) | {"v": 2, "kid": r.kid})
        return hmac.new(secret, (prev + body).encode(), hashlib.sha256).hexdigest()

    return digest


def rewrite(
    db: Database,
    tenant: str,
    *,
    seq: int,
    payload: dict[str, Any],
    hasher: Hasher,
    version: int | None = None,
    from_seq: int | None = None,
) -> None:
    """A database-level rewrite: edit one payload, then recompute the chain and the head row."""
    with db.tenant_session(tenant) as s:
        rows = list(s.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
        prev = rows[0].prev_hash
        for r in rows:
            if r.seq == seq:
                r.payload = payload
            if version is not None and r.seq >= (from_seq or seq):
                r.version = version
            if r.seq >= min(seq, from_seq or seq):
                r.prev_hash = prev
                r.hash = hasher(r, prev)
            prev = r.hash
        head = s.scalars(select(AuditHead)).one()
        head.hash = prev


def fill(log: AuditLog, tenant: str, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        log.record(tenant, kind="tool_call", actor="agent:x", subject="th", payload={"i": i})


@pytest.fixture
def db(migrated_backend_url: str) -> Database:
    database = Database(migrated_backend_url)
    upgrade(database)
    KeyService(database).ensure_tenant("t-a")
    KeyService(database).ensure_tenant("t-b")
    return database


def test_sha256_recomputed_rewrite_is_detected(db: Database) -> None:
    log = AuditLog(db, keys=K1)
    fill(log, "t-a", 4)
    assert log.verify("t-a").ok
    rewrite(db, "t-a", seq=2, payload={"i": 99}, hasher=sha256_chain)
    r = log.verify("t-a")
    assert (r.ok, r.problem, r.at_seq, r.records) == (False, "record edited", 2, 1)


def test_downgrading_rewritten_records_to_unkeyed_is_detected(db: Database) -> None:
    log = AuditLog(db, keys=K1)
    fill(log, "t-a", 4)
    rewrite(db, "t-a", seq=3, payload={"i": 99}, hasher=sha256_chain, version=1)
    r = log.verify("t-a")
    assert (r.ok, r.problem, r.at_seq) == (False, "unkeyed record after keyed records", 3)
    # The whole chain relabelled as unkeyed: it verifies as SHA-256, but nothing seals it.
    rewrite(db, "t-a", seq=2, payload={"i": 98}, hasher=sha256_chain, version=1, from_seq=1)
    r = log.verify("t-a")
    assert not r.ok and r.problem is not None and r.problem.startswith("unkeyed chain")


def test_rewrite_with_a_wrong_key_is_detected(db: Database) -> None:
    log = AuditLog(db, keys=K1)
    fill(log, "t-a", 3)
    rewrite(db, "t-a", seq=2, payload={"i": 99}, hasher=hmac_chain(b"attacker-guessed-secret"))
    r = log.verify("t-a")
    assert (r.ok, r.problem, r.at_seq) == (False, "record edited", 2)


def test_records_under_an_older_key_verify_after_rotation(db: Database) -> None:
    fill(AuditLog(db, keys=K1), "t-a", 3)
    rotated = AuditLog(db, keys=K2_K1)
    fill(rotated, "t-a", 2, start=3)
    assert [r["kid"] for r in rotated.records("t-a")] == ["k1", "k1", "k1", "k2", "k2"]
    assert {r["v"] for r in rotated.records("t-a")} == {2}
    r = rotated.verify("t-a")
    assert r.ok and r.records == 5
    # Dropping the old key too early is a clear failure, not a silent pass.
    only_new = AuditKeyring(K2_K1.keys[:1])
    r = verify(db, "t-a", keys=only_new)
    assert (r.ok, r.problem, r.at_seq) == (False, "chained with unknown audit key id 'k1'", 1)


def test_anchor_catches_truncation_and_a_rewrite_by_a_key_holder(db: Database) -> None:
    log = AuditLog(db, keys=K1)
    fill(log, "t-a", 3)
    anchor = log.head("t-a", now=NOW)
    assert (anchor.tenant, anchor.seq, anchor.kid, anchor.signed_at) == (
        "t-a",
        3,
        "k1",
        "2025-01-02T03:04:05+00:00",
    )
    fill(log, "t-a", 2, start=3)
    assert log.verify("t-a", anchor=anchor).ok  # later appends keep an anchor valid

    # Someone holding the key rewrites record 2: the chain alone cannot tell.
    rewrite(db, "t-a", seq=2, payload={"i": 99}, hasher=hmac_chain(K1.newest.secret))
    assert log.verify("t-a").ok
    r = log.verify("t-a", anchor=anchor)
    assert (r.ok, r.problem, r.at_seq) == (False, "anchored record changed", 3)


def test_anchor_catches_removal_of_the_newest_records(db: Database) -> None:
    log = AuditLog(db, keys=K1)
    fill(log, "t-a", 4)
    anchor = log.head("t-a", now=NOW)
    with db.tenant_session("t-a") as s:  # drop records 3-4 and move the head row back
        for r in s.scalars(select(AuditRecord).where(AuditRecord.seq >= 3)):
            s.delete(r)
        second = s.scalars(select(AuditRecord).where(AuditRecord.seq == 2)).one()
        head = s.scalars(select(AuditHead)).one()
        head.seq, head.hash = 2, second.hash
    assert log.verify("t-a").ok
    r = log.verify("t-a", anchor=anchor)
    assert (r.ok, r.problem, r.at_seq) == (False, "chain truncated below the anchor", 3)


def test_forged_or_foreign_anchors_are_refused(db: Database) -> None:
    log = AuditLog(db, keys=K1)
    fill(log, "t-a", 2)
    fill(log, "t-b", 2)
    anchor = log.head("t-a", now=NOW)
    forged = anchor.model_copy(update={"seq": 1})
    assert log.verify("t-a", anchor=forged).problem == "anchor signature invalid"
    assert log.verify("t-b", anchor=anchor).problem == "anchor is for tenant 't-a'"
    other_key = AuditKeyring.parse("k9:some-other-secret-0123456789")
    foreign = sign_head(other_key, tenant_id="t-a", seq=anchor.seq, hash=anchor.hash, now=NOW)
    assert verify(db, "t-a", keys=K1, anchor=foreign).problem == (
        "anchor signed with unknown audit key id 'k9'"
    )
    empty = log.head("t-empty", now=NOW)
    assert (empty.seq, empty.hash) == (0, "0" * 64) and log.verify("t-empty", anchor=empty).ok


def test_unkeyed_records_from_before_the_key_are_sealed_by_the_first_keyed_one(
    db: Database,
) -> None:
    log = AuditLog(db, keys=K1)
    fill(log, "t-a", 3)
    # As migrated from before keyed chains: version 1, bare SHA-256, no kid.
    rewrite(db, "t-a", seq=1, payload={"i": 0}, hasher=sha256_chain, version=1)
    with db.tenant_session("t-a") as s:
        for r in s.scalars(select(AuditRecord)):
            r.kid = None
    r = log.verify("t-a")
    assert not r.ok and r.problem is not None and "cockpit audit seal" in r.problem
    with pytest.raises(Exception) as refused:
        log.head("t-a")
    assert getattr(refused.value, "code", "") == "audit_chain_invalid"

    fill(log, "t-a", 1, start=3)  # any keyed append seals the unkeyed prefix
    r = log.verify("t-a")
    assert r.ok and (r.records, r.legacy) == (4, 3)

    # Rewriting the unkeyed prefix with SHA-256 now breaks the keyed record that covers it: its
    # HMAC cannot be recomputed without the key.
    def sha256_where_possible(r: AuditRecord, prev: str) -> str:
        return sha256_chain(r, prev) if r.version == 1 else r.hash

    rewrite(db, "t-a", seq=2, payload={"i": 99}, hasher=sha256_where_possible)
    r = log.verify("t-a")
    assert (r.ok, r.problem, r.at_seq) == (False, "record edited", 4)


def test_generated_key_file_is_private_and_shared_by_every_opener(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cockpit.db'}"
    settings = Settings(data_dir=tmp_path / "elsewhere")
    first = keyring_for(url, settings)
    path = tmp_path / "audit.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keyring_for(url, settings) == first
    assert str(first.newest.secret) not in repr(first)
    configured = Settings(data_dir=tmp_path, audit_keys='["a:0123456789abcdef0", "b:x"]')
    with pytest.raises(AuditKeyError) as bad:
        keyring_for(url, configured)
    assert "shorter" in bad.value.message and "x" not in bad.value.message.split("'b'")[1]
    good = Settings(data_dir=tmp_path, audit_keys="new:0123456789abcdef0, old:abcdef0123456789a")
    assert [k.kid for k in keyring_for(url, good).keys] == ["new", "old"]


def test_api_verify_head_and_anchor(tmp_path: Path) -> None:
    with running_app(tmp_path) as api:
        key = api.tenant("acme")
        db = Database(f"sqlite:///{api.data_dir / 'cockpit.db'}")
        log = AuditLog(db)  # the app's own key, from the data dir
        fill(log, "acme", 3)
        head = api.client.get("/v1/audit/head", headers=api.h(key))
        assert head.status_code == 200, head.text
        anchor = head.json()
        assert set(anchor) == {"v", "tenant", "seq", "hash", "kid", "signed_at", "signature"}
        assert anchor["tenant"] == "acme" and anchor["seq"] >= 3
        assert api.client.get("/v1/audit/verify", headers=api.h(key)).json()["ok"] is True
        ok = api.client.post("/v1/audit/verify", json=anchor, headers=api.h(key))
        assert ok.status_code == 200 and ok.json()["ok"] is True, ok.text

        edited = anchor["seq"] - 1
        rewrite(db, "acme", seq=edited, payload={"i": 99}, hasher=sha256_chain)
        got = api.client.get("/v1/audit/verify", headers=api.h(key)).json()
        assert (got["ok"], got["problem"], got["at_seq"]) == (False, "record edited", edited)
        again = api.client.post("/v1/audit/verify", json=anchor, headers=api.h(key)).json()
        assert again["ok"] is False
        refused = api.client.get("/v1/audit/head", headers=api.h(key))
        assert refused.status_code == 409 and refused.json()["code"] == "audit_chain_invalid"
        db.dispose()


def cockpit(data: Path, *args: str, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    env |= {"COCKPIT_DATA_DIR": str(data)} | env_extra
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_cli_head_verify_and_anchor(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'cockpit.db'}")
    upgrade(db)
    KeyService(db).ensure_tenant("acme")
    fill(AuditLog(db), "acme", 3)

    head = cockpit(tmp_path, "audit", "head", "--tenant", "acme")
    assert head.returncode == 0, head.stderr
    anchor_file = tmp_path / "anchor.json"
    anchor_file.write_text(head.stdout)
    assert SignedHead.model_validate_json(head.stdout).seq == 3
    ok = cockpit(tmp_path, "audit", "verify", "--anchor", str(anchor_file))
    assert ok.returncode == 0 and "acme: 3 records, holds the anchor at record 3" in ok.stdout

    rewrite(db, "acme", seq=2, payload={"i": 99}, hasher=sha256_chain)
    bad = cockpit(tmp_path, "audit", "verify", "--tenant", "acme")
    assert bad.returncode == 1 and "record edited at record 2" in bad.stdout
    anchored = cockpit(tmp_path, "audit", "verify", "--anchor", str(anchor_file))
    assert anchored.returncode == 1 and "FAIL" in anchored.stdout

    other = cockpit(
        tmp_path, "audit", "verify", "--tenant", "acme", COCKPIT_AUDIT_KEYS="z:0123456789abcdefg"
    )
    assert other.returncode == 1 and "unknown audit key id" in other.stdout
    db.dispose()
