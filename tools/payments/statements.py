"""The payment hot path's SQL: Core statements on the session's own connection.

Paying with auto-capture writes six rows (payment, capture, journal, entries, balances,
outbox). Through the ORM — a flush per step, an UPDATE per attribute change, loader
criteria compiled into every SELECT — that cost about fifty bare inserts. These helpers
read and write the same rows with Core on the connection of the caller's transaction, so
a payment stays all-or-nothing: rows are built as ordinary (transient) mapped objects,
and :func:`insert` writes them in one statement per table.

Core statements bypass the session's tenant scoping (``cockpit.db.session``), so every
statement here names the tenant itself: in every WHERE it reads with and in every row it
writes. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Table, and_, bindparam, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, configure_mappers

from cockpit.db.base import Base, TenantScoped
from cockpit.errors import InternalError
from tools.payments.models import Balance, Card, Merchant, Payment

PAYMENTS = cast(Table, Payment.__table__)
BALANCES = cast(Table, Balance.__table__)
MERCHANTS = cast(Table, Merchant.__table__)
CARDS = cast(Table, Card.__table__)


@dataclass(frozen=True, slots=True)
class MerchantFacts:
    """What paying needs to know of a merchant."""

    id: str
    country: str
    kyb_state: str
    settlement_currency: str


def connection(session: Session) -> Connection:
    """The connection of ``session``'s transaction, with the rows it holds written first
    (a caller may have added a card or a merchant the statements below must see)."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection()


@cache
def _columns(model: type[Base]) -> tuple[tuple[str, str], ...]:
    """``(attribute, column)`` name pairs of a mapped class (``metadata_`` ↔ ``metadata``)."""
    return tuple((attr.key, attr.columns[0].key) for attr in inspect(model).column_attrs)


M = TypeVar("M", bound=TenantScoped)


def transient(model: type[M], **values: Any) -> M:
    """A new, unsaved ``model`` object holding ``values``, built the way the ORM builds the
    objects of rows it loads (values straight into the instance dict, no change events):
    a tenth of the cost of ``model(**values)``, for rows that :func:`insert` writes."""
    mapper = inspect(model)
    if not mapper.configured:
        configure_mappers()
    obj: M = mapper.class_manager.new_instance()
    obj.__dict__.update(values)
    return obj


def insert(conn: Connection, tenant_id: str, rows: Iterable[TenantScoped]) -> None:
    """INSERT transient mapped objects, one statement per table, stamped with ``tenant_id``.

    Columns left ``None`` on an object are written as NULL (ORM and column defaults do not
    apply): callers set every value, as the objects also feed the response views.
    """
    by_table: dict[type[Base], list[dict[str, Any]]] = {}
    for row in rows:
        if row.tenant_id is None:
            row.tenant_id = tenant_id
        elif row.tenant_id != tenant_id:
            raise InternalError("row belongs to another tenant", code="cross_tenant_write")
        model = cast(type[Base], type(row))
        values = {col: getattr(row, attr) for attr, col in _columns(model)}
        by_table.setdefault(model, []).append(values)
    for model, batch in by_table.items():
        insert_values(conn, cast(Table, model.__table__), batch)


def insert_values(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (each naming its tenant) into ``table`` in one statement."""
    if rows:
        conn.execute(table.insert(), rows if len(rows) > 1 else rows[0])


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """A payment as a repeated request id sees it: enough to replay its first response."""

    id: str
    state: str
    fingerprint: str
    response: dict[str, Any] | None


_RECORD = select(
    PAYMENTS.c.id, PAYMENTS.c.state, PAYMENTS.c.fingerprint, PAYMENTS.c.response
).where(
    PAYMENTS.c.tenant_id == bindparam("tenant"),
    PAYMENTS.c.merchant_id == bindparam("merchant"),
    PAYMENTS.c.request_id == bindparam("request"),
)
_RECORD_LOCKED = _RECORD.with_for_update()


def payment_record(
    conn: Connection, tenant_id: str, merchant_id: str, request_id: str, *, lock: bool
) -> PaymentRecord | None:
    """The payment recorded for a merchant's request id (row-locked when ``lock``)."""
    params = {"tenant": tenant_id, "merchant": merchant_id, "request": request_id}
    row = conn.execute(_RECORD_LOCKED if lock else _RECORD, params).first()
    return None if row is None else PaymentRecord(*row)


@dataclass(frozen=True, slots=True)
class CardFacts:
    """What paying needs to know of a stored card."""

    id: str
    brand: str
    issuer: str
    issuing_country: str
    funding: str
    network_token: bool
    exp_month: int
    exp_year: int


_CARD = select(
    CARDS.c.id,
    CARDS.c.brand,
    CARDS.c.issuer,
    CARDS.c.issuing_country,
    CARDS.c.funding,
    CARDS.c.network_token,
    CARDS.c.exp_month,
    CARDS.c.exp_year,
).where(CARDS.c.tenant_id == bindparam("tenant"), CARDS.c.id == bindparam("card"))


def card(conn: Connection, tenant_id: str, card_id: str) -> CardFacts | None:
    row = conn.execute(_CARD, {"tenant": tenant_id, "card": card_id}).first()
    return None if row is None else CardFacts(*row)


_CARD_COLUMNS = _CARD.selected_columns
_MERCHANT_AND_CARD = (
    select(
        MERCHANTS.c.id,
        MERCHANTS.c.country,
        MERCHANTS.c.kyb_state,
        MERCHANTS.c.settlement_currency,
        *_CARD_COLUMNS,
    )
    .select_from(MERCHANTS)
    .outerjoin(
        CARDS, and_(CARDS.c.tenant_id == MERCHANTS.c.tenant_id, CARDS.c.id == bindparam("card"))
    )
    .where(MERCHANTS.c.tenant_id == bindparam("tenant"), MERCHANTS.c.id == bindparam("merchant"))
)


def merchant_and_card(
    conn: Connection, tenant_id: str, merchant_id: str, card_id: str | None
) -> tuple[MerchantFacts | None, CardFacts | None]:
    """The tenant's merchant and card (None when it has no such row), in one round trip."""
    params = {"tenant": tenant_id, "merchant": merchant_id, "card": card_id}
    row = conn.execute(_MERCHANT_AND_CARD, params).first()
    if row is None:
        return None, None
    merchant, card_row = MerchantFacts(*row[:4]), row[4:]
    return merchant, None if card_row[0] is None else CardFacts(*card_row)


_DECLINES = select(PAYMENTS.c.decline_code, PAYMENTS.c.created_at).where(
    PAYMENTS.c.tenant_id == bindparam("tenant"),
    PAYMENTS.c.card_id == bindparam("card"),
    PAYMENTS.c.merchant_id == bindparam("merchant"),
    PAYMENTS.c.state == "FAILED",
    PAYMENTS.c.created_at >= bindparam("since"),
    PAYMENTS.c.id != bindparam("payment"),
)


def recent_card_declines(
    conn: Connection, tenant_id: str, payment: Payment, *, since: datetime
) -> list[tuple[str | None, datetime]]:
    """``(decline code, created at)`` of the card's other failed payments at this merchant."""
    params = {
        "tenant": tenant_id,
        "card": payment.card_id,
        "merchant": payment.merchant_id,
        "since": since,
        "payment": payment.id,
    }
    return [(code, at) for code, at in conn.execute(_DECLINES, params)]


def add_to_balances(
    conn: Connection, tenant_id: str, deltas: Iterable[tuple[str, str, int]]
) -> None:
    """``balance = balance + delta`` per ``(account, currency, delta)``, creating missing rows.

    One atomic upsert: concurrent writers serialise on the row instead of overwriting each
    other's read-modify-write. Callers pass deltas in a fixed (sorted) order, so two
    transactions lock shared balance rows in the same order and cannot deadlock.
    """
    rows = [
        {"tenant_id": tenant_id, "account": account, "currency": currency, "balance": delta}
        for account, currency, delta in deltas
        if delta
    ]
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        conn.execute(_upsert(dialect), rows)
        return
    for row in rows:  # another backend: increment, insert when the row is missing
        result = conn.execute(
            update(BALANCES)
            .where(
                BALANCES.c.tenant_id == tenant_id,
                BALANCES.c.account == row["account"],
                BALANCES.c.currency == row["currency"],
            )
            .values(balance=BALANCES.c.balance + row["balance"])
        )
        if result.rowcount == 0:
            conn.execute(BALANCES.insert(), row)


@cache
def _upsert(dialect: str) -> Any:
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(BALANCES)
    return stmt.on_conflict_do_update(
        index_elements=[BALANCES.c.tenant_id, BALANCES.c.account, BALANCES.c.currency],
        set_={"balance": BALANCES.c.balance + stmt.excluded.balance},
    )


__all__ = [
    "CardFacts",
    "MerchantFacts",
    "PaymentRecord",
    "add_to_balances",
    "card",
    "connection",
    "insert",
    "insert_values",
    "merchant_and_card",
    "payment_record",
    "recent_card_declines",
    "transient",
]
