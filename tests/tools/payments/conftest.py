"""Fixtures for the payments tests: migrated databases (SQLite, optional PostgreSQL) and a small world."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event, text

from cockpit.db import migrate as core_migrate
from cockpit.db.session import Database, make_engine
from tools.payments.gateway import Gateway
from tools.payments.models import Card, Customer, Device, Merchant
from tools.payments.simulator import IssuerSimulator

PAYMENTS_VERSIONS = (
    Path(__file__).resolve().parents[3] / "tools" / "payments" / "migrations" / "versions"
)
TENANT = "t_test"
PG_URL = os.environ.get("COCKPIT_TEST_POSTGRES_URL")

_CORE_STUB = '''"""Stand-in for core_0001 until the platform ships it (test only)."""
revision = "core_0001"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
'''


def migrate(db: Database, stub_dir: Path) -> None:
    """Apply the core branch and ours (not other packages', so their work in progress cannot
    break these tests); a no-op core stub stands in while core_0001 does not exist yet."""
    cfg = core_migrate.alembic_config(db)
    core_versions = Path(core_migrate.__file__).parent / "migrations" / "versions"
    if any(core_versions.glob("core_0001*.py")):
        locations = f"{core_versions} {PAYMENTS_VERSIONS}"
    else:
        stub_dir.mkdir(parents=True, exist_ok=True)
        (stub_dir / "core_0001.py").write_text(_CORE_STUB)
        locations = f"{stub_dir} {PAYMENTS_VERSIONS}"
    cfg.set_main_option("version_locations", locations)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


_TEMPLATE: dict[str, Path] = {}


def sqlite_db(path: Path) -> Database:
    """A migrated SQLite file: migrated once per session, then copied (migrations are slow)."""
    if "db" not in _TEMPLATE:
        root = Path(tempfile.mkdtemp(prefix="pay_template_"))
        atexit.register(shutil.rmtree, root, True)
        template = Database("sqlite:///" + str(root / "template.db"))
        migrate(template, root / "stub_versions")
        with template.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        template.dispose()
        _TEMPLATE["db"] = root / "template.db"
    path.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_TEMPLATE["db"], path / "pay.db")
    return Database("sqlite:///" + str(path / "pay.db"))


def postgres_db(tmp: Path) -> tuple[Database, str]:
    """A database in a fresh schema (search_path) so parallel sessions never collide."""
    assert PG_URL is not None
    schema = "pay_test_" + uuid.uuid4().hex[:10]
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    @event.listens_for(engine, "connect")
    def _path(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f'SET search_path TO "{schema}"')
        cur.close()
        dbapi_conn.commit()

    engine.dispose()
    db = Database(PG_URL, engine=engine)
    migrate(db, tmp / "stub_versions")
    return db, schema


def drop_schema(db: Database, schema: str) -> None:
    db.dispose()
    engine = make_engine(PG_URL or "")
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = sqlite_db(tmp_path)
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = sqlite_db(tmp_path)
        yield database
        database.dispose()
        return
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail(
                "COCKPIT_TEST_POSTGRES_URL must be set in CI: PostgreSQL tests may not skip"
            )
        pytest.skip("COCKPIT_TEST_POSTGRES_URL not set")
    database, schema = postgres_db(tmp_path)
    try:
        yield database
    finally:
        drop_schema(database, schema)


def seed_basic(db: Database, tenant: str = TENANT) -> None:
    """Two merchants (SG approved, one pending KYB), a customer with cards and a device."""
    with db.tenant_session(tenant) as s:
        s.add_all([
            Merchant(id="m_sg", name="Lion Goods", legal_name="Lion Goods Pte Ltd", country="SG",
                     mcc="5732", markets=["SG", "MY", "PH"], settlement_currency="SGD",
                     kyb_state="APPROVED", webhook_url="https://m.example/hook", webhook_secret="whsec_test"),
            Merchant(id="m_pending", name="New Shop", legal_name="New Shop Ltd", country="SG", mcc="5999",
                     markets=["SG"], settlement_currency="SGD", kyb_state="IN_REVIEW", webhook_secret="x"),
            Customer(id="cus_1", email="a@example.com", country="SG"),
        ])  # fmt: skip
        s.flush()
        s.add_all([
            Device(id="dev_1", customer_id="cus_1", fingerprint="f" * 32, ip="203.0.113.7"),
            Card(id="card_visa", customer_id="cus_1", brand="VISA", bin="411111", last4="1111", funding="CREDIT",
                 issuer="Merlion Bank", issuing_country="SG", exp_month=12, exp_year=2031),
            Card(id="card_mc", customer_id="cus_1", brand="MASTERCARD", bin="555555", last4="4444",
                 funding="CREDIT", issuer="Harbour Bank", issuing_country="SG", exp_month=12, exp_year=2031),
        ])  # fmt: skip


class AlwaysApprove(IssuerSimulator):
    """A simulator with no declines, for lifecycle tests that need a success."""

    def decide(self, ctx: Any) -> Any:
        from tools.payments.simulator import AuthDecision

        return AuthDecision(approved=True)


@pytest.fixture
def gw(db: Database) -> Gateway:
    seed_basic(db)
    return Gateway(db, simulator=AlwaysApprove())


@pytest.fixture
def seeded(db: Database) -> Database:
    seed_basic(db)
    return db


@pytest.fixture(scope="session")
def make_seeded_db() -> Any:
    """A factory (usable inside hypothesis examples) for a fresh migrated, seeded SQLite db."""

    def make(path: Path) -> Database:
        database = sqlite_db(path)
        seed_basic(database)
        return database

    return make


@pytest.fixture
def seeded_any(any_db: Database) -> Database:
    seed_basic(any_db)
    return any_db
