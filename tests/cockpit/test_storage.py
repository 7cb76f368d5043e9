"""Storage conformance: the same contract on SQLite and PostgreSQL.

Migrations produce exactly the ORM schema; tenant scoping cannot be bypassed; keys are stored
hashed; the audit chain detects edits, deletions and removal of its newest records, and stays
valid under concurrent appends.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text, update

from cockpit.audit import log as audit_log
from cockpit.audit.log import AuditLog, verify
from cockpit.audit.models import AuditRecord
from cockpit.db.base import Base
from cockpit.db.migrate import pending, upgrade
from cockpit.db.session import Database
from cockpit.errors import InternalError
from cockpit.runtime.records import ThreadRecord
from cockpit.tenancy.keys import KeyService
from cockpit.tenancy.principal import Role

# Every package with tables, so the schema comparison covers them all.
for _mod in (
    "cockpit.tenancy.models",
    "cockpit.audit.models",
    "cockpit.runtime.records",
    "cockpit.specs.models",
    "cockpit.specs.assistant_models",
    "cockpit.models.usage",
    "cockpit.toolkit.sources.models",
    "cockpit.webhooks.models",
    "cockpit.crons.models",
    "cockpit.store.models",
):
    importlib.import_module(_mod)


@pytest.fixture
def db(migrated_backend_url: str) -> Database:
    database = Database(migrated_backend_url)
    upgrade(database)
    keys = KeyService(database)
    keys.ensure_tenant("t-a")
    keys.ensure_tenant("t-b")
    return database


def test_migrations_match_models_and_are_idempotent(db: Database) -> None:
    assert pending(db) == set()
    upgrade(db)  # a second start changes nothing
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    core_tables = {
        t
        for t in Base.metadata.tables
        if not t.startswith(("pay_", "fraud_", "credit_", "kb_", "fx_"))
    }
    relevant = [d for d in diff if _table_of(d) in core_tables]
    assert relevant == []


def _table_of(diff: Any) -> str:
    """The table an Alembic autogenerate difference is about (domains' tables are checked by
    their own tests, against their own models)."""
    op = diff[0] if isinstance(diff, tuple) else diff[0][0]
    item = diff if isinstance(diff, tuple) else diff[0]
    if op in ("add_table", "remove_table"):
        return str(item[1].name)
    if op in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        return str(item[1].table.name)
    return str(item[2])  # column differences: (op, schema, table, column, ...)


def test_tenant_scoping_cannot_be_bypassed(db: Database) -> None:
    with db.tenant_session("t-a") as s:
        s.add(ThreadRecord(thread_id="11111111-1111-1111-1111-111111111111", meta={}))
    with db.tenant_session("t-b") as s:
        assert s.scalars(select(ThreadRecord)).all() == []
        # An ORM update from B cannot touch A's row.
        s.execute(
            update(ThreadRecord).values(status="error").execution_options(synchronize_session=False)
        )
    with db.tenant_session("t-a") as s:
        rows = s.scalars(select(ThreadRecord)).all()
        assert [r.tenant_id for r in rows] == ["t-a"] and rows[0].status == "idle"
    with pytest.raises(InternalError) as err, db.system_session() as s:
        s.scalars(select(ThreadRecord)).all()
    assert err.value.code == "unscoped_query"
    with pytest.raises(InternalError) as err, db.tenant_session("t-b") as s:
        s.add(
            ThreadRecord(tenant_id="t-a", thread_id="22222222-2222-2222-2222-222222222222", meta={})
        )
    assert err.value.code == "cross_tenant_write"
    with db.tenant_session("t-a") as s:
        assert len(s.scalars(select(ThreadRecord)).all()) == 1


def test_keys_are_hashed_and_revocable(db: Database) -> None:
    keys = KeyService(db)
    issued = keys.create_key("t-a", Role.MERCHANT, name="m")
    with db.engine.connect() as conn:
        dump = " ".join(str(r) for r in conn.execute(text("SELECT * FROM api_keys")))
    assert issued.secret.split("_", 2)[2] not in dump
    assert keys.authenticate(issued.secret).tenant_id == "t-a"
    keys.revoke(issued.id)
    with pytest.raises(Exception) as err:
        keys.authenticate(issued.secret)
    assert getattr(err.value, "code", "") == "revoked_api_key"


def test_audit_chain_detects_tampering(db: Database) -> None:
    log = AuditLog(db)
    for i in range(5):
        log.record(
            "t-a",
            kind="tool_call",
            actor="agent:x",
            subject="th",
            payload={"i": i, "card": "4111 1111 1111 1111"},
        )
    log.record("t-b", kind="tool_call", actor="agent:y", subject="th", payload={})
    assert (
        verify(db, "t-a").ok and verify(db, "t-a").records == 5 and verify(db, "t-b").records == 1
    )
    stored = log.records("t-a")
    assert "4111 1111 1111 1111" not in str(stored) and "****1111" in str(stored)

    with db.tenant_session("t-a") as s:  # edit a payload
        rec = s.scalars(select(AuditRecord).where(AuditRecord.seq == 3)).one()
        rec.payload = {"i": 99}
    result = verify(db, "t-a")
    assert not result.ok and result.problem == "record edited" and result.at_seq == 3
    with db.tenant_session("t-a") as s:
        s.scalars(select(AuditRecord).where(AuditRecord.seq == 3)).one().payload = stored[2][
            "payload"
        ]
    assert verify(db, "t-a").ok

    with db.tenant_session("t-a") as s:  # delete from the middle
        s.delete(s.scalars(select(AuditRecord).where(AuditRecord.seq == 2)).one())
    assert verify(db, "t-a").problem == "record missing"


def test_audit_tail_removal_detected(db: Database) -> None:
    log = AuditLog(db)
    for i in range(3):
        log.record("t-a", kind="k", actor="a", subject="s", payload={"i": i})
    with db.tenant_session("t-a") as s:
        s.delete(s.scalars(select(AuditRecord).where(AuditRecord.seq == 3)).one())
    result = verify(db, "t-a")
    assert not result.ok and result.problem == "newest records removed"


def test_concurrent_audit_appends_keep_one_chain(db: Database) -> None:
    log = AuditLog(db)

    def work(n: int) -> None:
        for i in range(10):
            log.record("t-a", kind="k", actor=f"w{n}", subject="s", payload={"i": i})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = verify(db, "t-a")
    assert result.ok and result.records == 40


def test_an_append_after_another_process_appended_reads_the_head(db: Database) -> None:
    """The head a process remembers from its own last append is only a guess: when another
    process has moved the head since, the append reads it and chains after that record."""
    log = AuditLog(db)
    for i in range(2):
        log.record("t-a", kind="k", actor="here", subject="s", payload={"i": i})
    remembered = dict(audit_log._last_heads)
    log.record("t-a", kind="k", actor="elsewhere", subject="s", payload={"i": 2})
    audit_log._last_heads.update(remembered)  # as if "elsewhere" were another process

    seq = log.record("t-a", kind="k", actor="here", subject="s", payload={"i": 3})

    assert seq == 4
    result = verify(db, "t-a")
    assert result.ok and result.records == 4
