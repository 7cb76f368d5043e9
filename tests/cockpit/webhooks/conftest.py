"""Fixtures for the webhook tests: a migrated database with two tenants (t-a and t-b), and a
real receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.db.migrate import upgrade
from cockpit.db.session import Database
from cockpit.tenancy.keys import KeyService
from tests.cockpit.webhooks.kit import Receiver, serving_receiver


def two_tenants(url: str) -> Database:
    database = Database(url)
    upgrade(database)
    for tenant in ("t-a", "t-b"):
        KeyService(database).ensure_tenant(tenant)
    return database


@pytest.fixture
def db(migrated_backend_url: str) -> Database:
    """Both backends, each a copy of a database migrated once per worker."""
    return two_tenants(migrated_backend_url)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Database:
    return two_tenants(f"sqlite:///{tmp_path}/webhooks.db")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving_receiver() as got:
        yield got
