"""The payment hot path's SQL: Core statements on the session's own connection.

Paying with auto-capture writes six rows (payment, capture, journal, entries, balances,
outbox). Through the ORM — a flush per step, an UPDATE per attribute change, loader
criteria compiled into every SELECT — that cost about fifty bare inserts. These helpers
read and write the same rows with Core on the connection of the caller's transaction, so
a payment stays all-or-nothing: rows are built as ordinary (transient) mapped objects,
and :func:`insert` writes them in one statement per table. Capture, refund and settlement
read and write their payment and capture rows the same way; an ORM copy of such a row that
the session holds is expired once it is written (:func:`expire_held`), so it is read again.

Each statement is compiled once per dialect and run through the driver
(:mod:`tools.payments.prepared`): Core's per-call compile-cache lookup, parameter and
result set-up cost more CPU than SQLite spent on the statements themselves.

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

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    inspect,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, configure_mappers
from sqlalchemy.orm.exc import StaleDataError

from cockpit.db.base import Base, TenantScoped
from cockpit.errors import InternalError
from tools.payments.models import Balance, Capture, Card, Merchant, Payment, Refund
from tools.payments.prepared import Prepared, insert_into

PAYMENTS = cast(Table, Payment.__table__)
BALANCES = cast(Table, Balance.__table__)
MERCHANTS = cast(Table, Merchant.__table__)
CARDS = cast(Table, Card.__table__)
CAPTURES = cast(Table, Capture.__table__)
REFUNDS = cast(Table, Refund.__table__)


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
    return bound(session)


_BOUND = "pay_statements_connection"


def bound(session: Session) -> Connection:
    """The connection of ``session``'s transaction, remembered for that transaction:
    ``Session.connection()`` walks the transaction's state on every call, and one payment
    asks for it five times. A new transaction (after a commit or rollback) asks again."""
    transaction = session.get_transaction()
    held = session.info.get(_BOUND)
    if transaction is not None and held is not None and held[0] is transaction:
        return cast(Connection, held[1])
    conn = session.connection()
    session.info[_BOUND] = (session.get_transaction(), conn)
    return conn


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
        # Straight from the instance dict (what an unset attribute reads as: None), without
        # the instrumented attribute lookup per column.
        held = row.__dict__
        values = {col: held.get(attr) for attr, col in _columns(model)}
        by_table.setdefault(model, []).append(values)
    for model, batch in by_table.items():
        insert_values(conn, cast(Table, model.__table__), batch)


def insert_values(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (each naming its tenant, all with the same columns) into ``table`` in
    one driver call."""
    if rows:
        _inserter(table, tuple(rows[0])).execute_many(conn, rows)


@cache
def _inserter(table: Table, columns: tuple[str, ...]) -> Prepared:
    return insert_into(table, columns)


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
_RECORD_LOCKED = Prepared(_RECORD.with_for_update())
_RECORD_READ = Prepared(_RECORD)


def payment_record(
    conn: Connection, tenant_id: str, merchant_id: str, request_id: str, *, lock: bool
) -> PaymentRecord | None:
    """The payment recorded for a merchant's request id (row-locked when ``lock``)."""
    params = {"tenant": tenant_id, "merchant": merchant_id, "request": request_id}
    row = (_RECORD_LOCKED if lock else _RECORD_READ).first(conn, params)
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


_CARD_SELECT = select(
    CARDS.c.id,
    CARDS.c.brand,
    CARDS.c.issuer,
    CARDS.c.issuing_country,
    CARDS.c.funding,
    CARDS.c.network_token,
    CARDS.c.exp_month,
    CARDS.c.exp_year,
).where(CARDS.c.tenant_id == bindparam("tenant"), CARDS.c.id == bindparam("card"))
_CARD = Prepared(_CARD_SELECT)


def card(conn: Connection, tenant_id: str, card_id: str) -> CardFacts | None:
    row = _CARD.first(conn, {"tenant": tenant_id, "card": card_id})
    return None if row is None else CardFacts(*row)


_CARD_COLUMNS = _CARD_SELECT.selected_columns
_RECORD_COLUMNS = _RECORD.selected_columns
_PAY_FACTS = Prepared(
    select(
        MERCHANTS.c.id,
        MERCHANTS.c.country,
        MERCHANTS.c.kyb_state,
        MERCHANTS.c.settlement_currency,
        *_CARD_COLUMNS,
        *_RECORD_COLUMNS,
    )
    .select_from(MERCHANTS)
    .outerjoin(
        CARDS, and_(CARDS.c.tenant_id == MERCHANTS.c.tenant_id, CARDS.c.id == bindparam("card"))
    )
    .outerjoin(
        PAYMENTS,
        and_(
            PAYMENTS.c.tenant_id == MERCHANTS.c.tenant_id,
            PAYMENTS.c.merchant_id == MERCHANTS.c.id,
            PAYMENTS.c.request_id == bindparam("request"),
        ),
    )
    .where(MERCHANTS.c.tenant_id == bindparam("tenant"), MERCHANTS.c.id == bindparam("merchant"))
)


@dataclass(frozen=True, slots=True)
class PayFacts:
    """What a pay request finds: the tenant's merchant and card, and a payment already
    recorded for its request id (None for each that does not exist)."""

    merchant: MerchantFacts | None
    card: CardFacts | None
    record: PaymentRecord | None
    """Read without a row lock: a caller that acts on it reads it again with
    :func:`payment_record` (``lock=True``)."""


def pay_facts(
    conn: Connection, tenant_id: str, merchant_id: str, card_id: str | None, request_id: str
) -> PayFacts:
    """The merchant, card and recorded payment of a pay request, in one round trip."""
    params = {"tenant": tenant_id, "merchant": merchant_id, "card": card_id, "request": request_id}
    row = _PAY_FACTS.first(conn, params)
    if row is None:
        return PayFacts(None, None, None)
    cards = len(_CARD_COLUMNS)
    card_row, record_row = row[4 : 4 + cards], row[4 + cards :]
    return PayFacts(
        MerchantFacts(*row[:4]),
        None if card_row[0] is None else CardFacts(*card_row),
        None if record_row[0] is None else PaymentRecord(*record_row),
    )


_MERCHANT = Prepared(
    select(
        MERCHANTS.c.id, MERCHANTS.c.country, MERCHANTS.c.kyb_state, MERCHANTS.c.settlement_currency
    ).where(MERCHANTS.c.tenant_id == bindparam("tenant"), MERCHANTS.c.id == bindparam("merchant"))
)


def merchant(conn: Connection, tenant_id: str, merchant_id: str) -> MerchantFacts | None:
    row = _MERCHANT.first(conn, {"tenant": tenant_id, "merchant": merchant_id})
    return None if row is None else MerchantFacts(*row)


# ----- a stored payment changed by capture and refund -------------------------------------


@cache
def _payment_select(*, by_merchant: bool) -> tuple[tuple[str, ...], Prepared]:
    """The attribute names, and a locking SELECT of every column of one payment."""
    pairs = _columns(Payment)
    where = [PAYMENTS.c.tenant_id == bindparam("tenant"), PAYMENTS.c.id == bindparam("payment")]
    if by_merchant:
        where.append(PAYMENTS.c.merchant_id == bindparam("merchant"))
    stmt = select(*(PAYMENTS.c[column] for _, column in pairs)).where(*where).with_for_update()
    return tuple(attr for attr, _ in pairs), Prepared(stmt)


def locked_payment(
    conn: Connection, tenant_id: str, payment_id: str, *, merchant_id: str | None
) -> Payment | None:
    """The payment, row-locked, as a transient object (None when the tenant has no such
    payment, or it belongs to another merchant than ``merchant_id``); write what changes
    with :func:`update_payment`."""
    attrs, stmt = _payment_select(by_merchant=merchant_id is not None)
    row = stmt.first(conn, {"tenant": tenant_id, "payment": payment_id, "merchant": merchant_id})
    return None if row is None else transient(Payment, **dict(zip(attrs, row, strict=True)))


@cache
def _payment_update(columns: tuple[str, ...]) -> Prepared:
    return Prepared(
        update(PAYMENTS)
        .where(
            PAYMENTS.c.tenant_id == bindparam("where_tenant"),
            PAYMENTS.c.id == bindparam("where_id"),
            PAYMENTS.c.version == bindparam("where_version"),
        )
        .values({column: bindparam(column) for column in (*columns, "version")})
    )


def update_payment(session: Session, payment: Payment, changed: tuple[str, ...]) -> None:
    """Write the ``changed`` attributes (each named as its column) of a payment read by
    :func:`locked_payment` and bump its version, checked as the ORM checks it: a mismatch
    raises ``StaleDataError``, which the transaction retries.

    An ORM copy of the row that the session holds is expired, so it is read again.
    """
    values = {column: payment.__dict__[column] for column in changed}
    values |= {"version": payment.version + 1, "where_tenant": payment.tenant_id}
    values |= {"where_id": payment.id, "where_version": payment.version}
    if _payment_update(changed).execute(bound(session), values) != 1:
        raise StaleDataError(f"payment {payment.id} changed under its row lock")
    payment.version += 1
    expire_held(session, Payment, [payment.id])


def expire_held(session: Session, model: type[Base], ids: Iterable[str]) -> None:
    """Expire the session's ORM copies of rows just written with Core: they are stale."""
    if not session.identity_map:
        return
    mapper = inspect(model)
    for row_id in ids:
        held = session.identity_map.get(mapper.identity_key_from_primary_key((row_id,)))
        if held is not None:
            session.expire(held)


@cache
def _keyed_record(table: Table) -> Prepared:
    return Prepared(
        select(table.c.fingerprint, table.c.response).where(
            table.c.tenant_id == bindparam("tenant"),
            table.c.merchant_id == bindparam("merchant"),
            table.c.request_id == bindparam("request"),
        )
    )


def keyed_record(
    conn: Connection, table: Table, tenant_id: str, merchant_id: str, request_id: str
) -> tuple[str, dict[str, Any]] | None:
    """``(fingerprint, response)`` of the capture or refund row recorded for a merchant's
    request id, or None."""
    params = {"tenant": tenant_id, "merchant": merchant_id, "request": request_id}
    row = _keyed_record(table).first(conn, params)
    return None if row is None else (row[0], row[1])


# ----- settlement ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unsettled:
    """A capture waiting for settlement, with its payment's method category."""

    id: str
    payment_id: str
    amount: int
    currency: str
    method_category: str | None


_UNSETTLED = Prepared(
    select(
        CAPTURES.c.id,
        CAPTURES.c.payment_id,
        CAPTURES.c.amount,
        CAPTURES.c.currency,
        PAYMENTS.c.method_category,
    )
    .select_from(CAPTURES)
    .outerjoin(
        PAYMENTS,
        and_(PAYMENTS.c.tenant_id == CAPTURES.c.tenant_id, PAYMENTS.c.id == CAPTURES.c.payment_id),
    )
    .where(
        CAPTURES.c.tenant_id == bindparam("tenant"),
        CAPTURES.c.merchant_id == bindparam("merchant"),
        CAPTURES.c.settled_at.is_(None),
        CAPTURES.c.created_at <= bindparam("cutoff"),
    )
    .order_by(CAPTURES.c.created_at)
)


def unsettled_captures(
    conn: Connection, tenant_id: str, merchant_id: str, *, cutoff: datetime
) -> list[Unsettled]:
    """The merchant's captures made by ``cutoff`` and not settled yet, oldest first."""
    params = {"tenant": tenant_id, "merchant": merchant_id, "cutoff": cutoff}
    return [Unsettled(*row) for row in _UNSETTLED.rows(conn, params)]


_SETTLE = Prepared(
    update(CAPTURES)
    .where(CAPTURES.c.tenant_id == bindparam("tenant"), CAPTURES.c.id == bindparam("capture"))
    .values(settled_at=bindparam("at"))
)


def mark_settled(session: Session, tenant_id: str, capture_ids: list[str], *, at: datetime) -> None:
    """Stamp the captures settled at ``at``, in one driver call."""
    rows = [{"tenant": tenant_id, "capture": cid, "at": at} for cid in capture_ids]
    _SETTLE.execute_many(bound(session), rows)
    expire_held(session, Capture, capture_ids)


_DECLINES = Prepared(
    select(PAYMENTS.c.decline_code, PAYMENTS.c.created_at).where(
        PAYMENTS.c.tenant_id == bindparam("tenant"),
        PAYMENTS.c.card_id == bindparam("card"),
        PAYMENTS.c.merchant_id == bindparam("merchant"),
        # A literal, not a parameter: only then can the planner use the partial index of
        # failed payments (ix_pay_payments_card_declines) instead of the merchant's index.
        PAYMENTS.c.state == literal_column("'FAILED'"),
        PAYMENTS.c.created_at >= bindparam("since"),
        PAYMENTS.c.id != bindparam("payment"),
    )
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
    return [(code, at) for code, at in _DECLINES.rows(conn, params)]


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
        _upsert(dialect).execute_many(conn, rows)
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
def _upsert(dialect: str) -> Prepared:
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(BALANCES)
    stmt = stmt.values({name: bindparam(name) for name in _BALANCE_COLUMNS}).inline()
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=[BALANCES.c.tenant_id, BALANCES.c.account, BALANCES.c.currency],
            set_={"balance": BALANCES.c.balance + stmt.excluded.balance},
        )
    )


_BALANCE_COLUMNS = ("tenant_id", "account", "currency", "balance")


__all__ = [
    "CAPTURES",
    "REFUNDS",
    "CardFacts",
    "MerchantFacts",
    "PayFacts",
    "PaymentRecord",
    "Unsettled",
    "add_to_balances",
    "bound",
    "card",
    "connection",
    "expire_held",
    "insert",
    "insert_values",
    "keyed_record",
    "locked_payment",
    "mark_settled",
    "merchant",
    "pay_facts",
    "payment_record",
    "recent_card_declines",
    "transient",
    "unsettled_captures",
    "update_payment",
]
