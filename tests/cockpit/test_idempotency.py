"""The one idempotency mechanism (``cockpit.idempotency``): fingerprints, the replay rule, and
``write_once`` under concurrency on SQLite and PostgreSQL, over a table of this test's own."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, Integer, String, UniqueConstraint, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from cockpit.db.base import TenantScoped
from cockpit.db.session import Database
from cockpit.errors import Conflict, InternalError
from cockpit.idempotency import (
    Record,
    canonical_json,
    fingerprint,
    key_reused,
    replay,
    write_once,
)

TENANT = "t1"


class _Base(DeclarativeBase):
    pass


class Note(TenantScoped, _Base):
    """A keyed write of the kind domain tables make: the row is its own idempotency record."""

    __tablename__ = "idem_test_notes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key", name="uq_idem_test_notes_key"),
        UniqueConstraint("tenant_id", "slug", name="uq_idem_test_notes_slug"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    slug: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/idem.db"
    else:
        url = request.getfixturevalue("fresh_pg_url")
    database = Database(url)
    _Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


def _find(key: str) -> Callable[[Session], Record | None]:
    def find(s: Session) -> Record | None:
        note = s.scalar(select(Note).where(Note.key == key))
        return None if note is None else Record(note.fingerprint, note.response or {})

    return find


def _write(
    key: str | None, fp: str, slug: str | None = None
) -> Callable[[Session], dict[str, Any]]:
    def write(s: Session) -> dict[str, Any]:
        note = Note(key=key, slug=slug or uuid.uuid4().hex, fingerprint=fp)
        s.add(note)
        s.flush()
        # Something no retry could recompute: a replay can only come from the stored response.
        note.response = {"id": note.id, "slug": note.slug, "nonce": uuid.uuid4().hex, "x": 0.1}
        s.flush()
        return dict(note.response)

    return write


def _notes(db: Database) -> int:
    with db.tenant_session(TENANT) as s:
        return int(s.scalar(select(func.count()).select_from(Note)) or 0)


# ----- fingerprints and the replay rule --------------------------------------------------------


def test_fingerprint_is_canonical_and_names_the_operation() -> None:
    a = {"amount": 1, "nested": {"b": 2, "a": [1, "x"]}}
    b = {"nested": {"a": [1, "x"], "b": 2}, "amount": 1}
    assert fingerprint(a, operation="op") == fingerprint(b, operation="op")
    assert fingerprint(a, operation="op") != fingerprint(a, operation="other")
    assert fingerprint(a, operation="op") != fingerprint({**a, "amount": 2}, operation="op")
    # Without an operation the request alone is hashed (tables of one operation, e.g. payments).
    assert fingerprint(a) == hashlib.sha256(canonical_json(a).encode()).hexdigest()
    assert canonical_json(b) == '{"amount":1,"nested":{"a":[1,"x"],"b":2}}'


def test_replay_answers_the_same_request_and_refuses_another() -> None:
    record = Record("fp-1", {"id": 7})
    assert replay(None, "fp-1", key="k") is None
    assert replay(record, "fp-1", key="k") == {"id": 7}
    with pytest.raises(Conflict) as err:
        replay(record, "fp-2", key="k", param="request_id", details={"resultCode": "X"})
    assert (err.value.code, err.value.param, err.value.status) == (
        "idempotency_key_reused",
        "request_id",
        409,
    )
    assert err.value.to_dict()["details"] == {"resultCode": "X"}
    # A row stored before its table kept fingerprints has nothing to compare: replayed.
    assert replay(Record(None, {"id": 8}), "fp-2", key="k") == {"id": 8}
    assert key_reused("k").code == "idempotency_key_reused"


# ----- write_once ------------------------------------------------------------------------------


def test_write_once_replays_the_stored_response(db: Database) -> None:
    fp = fingerprint({"n": 1}, operation="note")

    def once(request_fp: str) -> Any:
        return write_once(
            db,
            TENANT,
            key="k1",
            request_fingerprint=request_fp,
            find=_find("k1"),
            write=_write("k1", request_fp),
        )

    first = once(fp)
    again = once(fp)
    assert not first.replayed and again.replayed
    assert json.dumps(again.response) == json.dumps(first.response)
    with pytest.raises(Conflict) as err:
        once(fingerprint({"n": 2}, operation="note"))
    assert err.value.code == "idempotency_key_reused"
    assert _notes(db) == 1


def test_write_once_without_a_key_writes_every_time(db: Database) -> None:
    for _ in range(2):
        out = write_once(
            db,
            TENANT,
            key=None,
            request_fingerprint="fp",
            find=_find("unused"),
            write=_write(None, "fp"),
        )
        assert not out.replayed
    assert _notes(db) == 2


def test_concurrent_writes_with_one_key_write_once(db: Database) -> None:
    n = 20
    fp = fingerprint({"n": 1}, operation="note")
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = write_once(
                db,
                TENANT,
                key="race",
                request_fingerprint=fp,
                find=_find("race"),
                write=_write("race", fp),
            )
        except Exception as exc:  # asserted on below: none may fail
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    failed = [r for r in results if isinstance(r, Exception) or r is None]
    assert not failed, failed
    assert sum(not r.replayed for r in results) == 1
    assert len({json.dumps(r.response) for r in results}) == 1
    assert _notes(db) == 1


def test_a_conflict_that_is_not_the_key_is_an_internal_error(db: Database) -> None:
    """An IntegrityError with no record under the key behind it is not a race: no replay."""
    write_once(
        db,
        TENANT,
        key="a",
        request_fingerprint="fp",
        find=_find("a"),
        write=_write("a", "fp", slug="taken"),
    )
    with pytest.raises(InternalError) as err:
        write_once(
            db,
            TENANT,
            key="b",
            request_fingerprint="fp",
            find=_find("b"),
            write=_write("b", "fp", slug="taken"),
        )
    assert err.value.code == "idempotent_write_conflict"
