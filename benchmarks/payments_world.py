"""The payments benchmarks' world: a scratch database, one approved merchant, one customer and
``CARDS`` cards.

Shared by ``payments.py`` (in process) and ``payments_http.py`` (over HTTP) so that both
measure the same payment on the same kind of database. On PostgreSQL each run works in a
scratch schema of its own, dropped afterwards. Payments rotate over the cards (:func:`card_for`): one card paying
thousands of times would pile up its own recent declines, which every payment reads for the
scheme retry caps, and after twenty it would stop reaching the issuer at all.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event, text

from cockpit.db.session import Database, make_engine
from tools.payments.models import Card, Customer, Merchant

TENANT = "bench"
CARDS = 50
"""How many cards the payments rotate over."""


def card_for(i: int) -> str:
    """The card the ``i``-th payment uses."""
    return f"bcard{i % CARDS}"


def seed_merchant(db: Database, *, tenant: str = TENANT, merchant_id: str | None = None) -> str:
    """An approved SGD merchant, a customer and its cards in ``tenant``; the merchant's id."""
    merchant_id = merchant_id or f"m_{uuid.uuid4().hex[:6]}"
    with db.tenant_session(tenant) as s:
        s.add(
            Merchant(
                id=merchant_id,
                name="B",
                legal_name="B",
                country="SG",
                mcc="5732",
                markets=["SG"],
                settlement_currency="SGD",
                kyb_state="APPROVED",
                webhook_secret="s",
            )
        )
        s.add(Customer(id="bc", country="SG"))
        s.flush()
        for k in range(CARDS):
            s.add(
                Card(
                    id=card_for(k),
                    customer_id="bc",
                    brand="VISA",
                    bin="411111",
                    last4="1111",
                    funding="CREDIT",
                    issuer="Merlion Bank",
                    issuing_country="SG",
                    exp_month=1,
                    exp_year=2035,
                    network_token=True,
                )
            )
    return merchant_id


def create_schema(url: str, schema: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def drop_schema(url: str, schema: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def in_schema(url: str, schema: str | None) -> Database:
    """The database at ``url``; with a ``schema``, every connection works in it."""
    if schema is None:
        return Database(url)
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _path(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f'SET search_path TO "{schema}"')
        cur.close()
        dbapi_conn.commit()

    return Database(url, engine=engine)


__all__ = [
    "CARDS",
    "TENANT",
    "card_for",
    "create_schema",
    "drop_schema",
    "in_schema",
    "seed_merchant",
]
