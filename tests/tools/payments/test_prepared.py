"""Prepared statements bind and read values exactly as Core does, on every backend, and their
driver errors arrive as the SQLAlchemy errors the payments retries rely on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from cockpit.db.session import Database
from cockpit.errors import InternalError
from tests.tools.payments.conftest import TENANT, AlwaysApprove, seed_basic
from tools.payments import statements
from tools.payments.gateway import Gateway, PayRequest
from tools.payments.ledger import JOURNALS
from tools.payments.models import Journal, Payment
from tools.payments.prepared import Prepared, insert_into, pipelined

AT = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
SGT = timezone(timedelta(hours=8))


def _journal(journal_id: str, memo: Any, when: datetime) -> dict[str, Any]:
    return {
        "id": journal_id,
        "tenant_id": TENANT,
        "kind": "capture",
        "ref_type": "capture",
        "ref_id": "cap_x",
        "memo": memo,
        "created_at": when,
    }


def test_rows_written_prepared_read_back_as_rows_written_by_core(any_db: Database) -> None:
    memo = {"fx": [{"rate": "1.25", "source_minor": 5}], "note": "ü"}
    local = datetime(2026, 11, 2, 11, 0, tzinfo=SGT)  # the same instant as AT, another offset
    with any_db.tenant_session(TENANT) as s:
        conn = s.connection()
        conn.execute(JOURNALS.insert(), _journal("jnl_core", memo, local))
        insert_into(JOURNALS, tuple(_journal("x", None, AT))).execute(
            conn, _journal("jnl_prep", memo, local)
        )
        conn.execute(JOURNALS.insert(), _journal("jnl_core_null", None, AT))
        statements.insert_values(conn, JOURNALS, [_journal("jnl_prep_null", None, AT)])
    with any_db.tenant_session(TENANT) as s:
        raw = {
            row[0]: tuple(row[1:])
            for row in s.connection().exec_driver_sql(
                "SELECT id, memo, created_at FROM pay_journals ORDER BY id"
            )
        }
        loaded: dict[str, tuple[Any, datetime]] = {
            j.id: (j.memo, j.created_at) for j in s.scalars(select(Journal))
        }
    assert raw["jnl_prep"] == raw["jnl_core"] and raw["jnl_prep_null"] == raw["jnl_core_null"]
    assert loaded["jnl_prep"] == (memo, AT) and loaded["jnl_prep_null"] == (None, AT)


def test_selected_values_go_through_their_column_types(any_db: Database) -> None:
    seed_basic(any_db)
    Gateway(any_db, simulator=AlwaysApprove()).pay(
        TENANT, PayRequest("m_sg", "p1", 1_000, "SGD", card_id="card_visa"), at=AT
    )
    columns = (Payment.created_at, Payment.response, Payment.three_ds, Payment.metadata_)
    query = select(*columns).where(
        Payment.tenant_id == bindparam("tenant"), Payment.request_id == bindparam("request")
    )
    params = {"tenant": TENANT, "request": "p1"}
    with any_db.tenant_session(TENANT) as s:
        core = s.connection().execute(query, params).one()
        prepared = Prepared(query).first(s.connection(), params)
    assert prepared == tuple(core)
    assert prepared is not None and prepared[0] == AT and prepared[0].tzinfo is not None
    assert isinstance(prepared[1], dict) and prepared[2] is False and prepared[3] is None


def test_a_duplicate_key_raises_sqlalchemys_integrity_error(any_db: Database) -> None:
    insert = insert_into(JOURNALS, tuple(_journal("x", {}, AT)))
    with pytest.raises(IntegrityError), any_db.tenant_session(TENANT) as s:
        insert.execute_many(s.connection(), [_journal("jnl_1", {}, AT), _journal("jnl_1", {}, AT)])
    with any_db.tenant_session(TENANT) as s:  # the failed transaction left nothing behind
        assert s.scalars(select(Journal)).all() == []


def test_a_duplicate_key_in_a_pipeline_raises_sqlalchemys_integrity_error(any_db: Database) -> None:
    insert = insert_into(JOURNALS, tuple(_journal("x", {}, AT)))
    with pytest.raises(IntegrityError), any_db.tenant_session(TENANT) as s:
        conn = s.connection()
        with pipelined(conn):  # psycopg reports the error when the block ends
            insert.execute(conn, _journal("jnl_1", {}, AT))
            insert.execute(conn, _journal("jnl_1", {}, AT))
            insert.execute(conn, _journal("jnl_2", {}, AT))
    with any_db.tenant_session(TENANT) as s:
        assert s.scalars(select(Journal)).all() == []


def test_expanding_parameters_are_refused(db: Database) -> None:
    query = Prepared(select(Journal.id).where(Journal.id.in_(["a", "b"])))
    with pytest.raises(InternalError) as err, db.tenant_session(TENANT) as s:
        query.rows(s.connection(), {})
    assert err.value.code == "statement_not_preparable"


def test_a_repeated_request_replays_through_the_single_read(any_db: Database) -> None:
    seed_basic(any_db)
    gw = Gateway(any_db, simulator=AlwaysApprove())
    first = gw.pay(TENANT, PayRequest("m_sg", "p1", 1_000, "SGD", card_id="card_visa"), at=AT)
    again = gw.pay(TENANT, PayRequest("m_sg", "p1", 1_000, "SGD", card_id="card_visa"), at=AT)
    assert again == first
    with any_db.tenant_session(TENANT) as s:
        facts = statements.pay_facts(s.connection(), TENANT, "m_sg", "card_visa", "p1")
        assert facts.record is not None and facts.record.id == first["paymentId"]
        assert facts.merchant is not None and facts.card is not None
        none = statements.pay_facts(s.connection(), TENANT, "m_sg", None, "p2")
        assert none.record is None and none.card is None and none.merchant is not None
        assert statements.pay_facts(s.connection(), "t_other", "m_sg", None, "p1").merchant is None
