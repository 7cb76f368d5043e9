"""Start-up hooks run in an order that keeps them off each other's locks."""

from __future__ import annotations

from cockpit.app import STARTUP_HOOKS


def test_credit_seeds_before_the_payments_demo_world() -> None:
    """The payments demo world is seeded in one long background transaction; on SQLite it holds
    the write lock throughout, so credit's two short writes go first instead of waiting."""
    assert STARTUP_HOOKS.index("tools.credit.startup") < STARTUP_HOOKS.index(
        "tools.payments.startup"
    )


def test_catalogues_come_after_the_demo_world_they_wait_for() -> None:
    """Commerce finds the payments seeding thread in the services and waits for it."""
    assert STARTUP_HOOKS.index("tools.payments.startup") < STARTUP_HOOKS.index(
        "tools.commerce.startup"
    )
