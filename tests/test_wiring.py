"""Composition-root wiring across domains (which never import each other)."""

from __future__ import annotations

from pathlib import Path

from tests.support.apptest import running_app


def test_payments_settle_at_ecb_rates_and_fx_reads_the_ledger(tmp_path: Path) -> None:
    with running_app(tmp_path) as api:
        extras = api.client.app.state.services.extras  # type: ignore[attr-defined]
        quote = extras["payments_gateway"].rates.convert(10_000, "USD", "SGD")
        assert quote.quote_id.startswith("ecb:USDSGD:")
        assert 11_000 < quote.target_minor < 15_000  # a real USD/SGD rate, not 1:1
        # A currency the ECB does not quote keeps the gateway's approximate rate.
        assert extras["payments_gateway"].rates.convert(100_000, "VND", "USD").target_minor > 0
        assert hasattr(extras["fx_exposure_source"], "daily_volumes")


def test_fraud_demo_history_simulates_around_the_payments_world(tmp_path: Path) -> None:
    from tools.fraud.service import DEMO_CUSTOMERS_KEY
    from tools.payments.demo import seed_demo_world

    with running_app(tmp_path) as api:
        services = api.client.app.state.services  # type: ignore[attr-defined]
        seed_demo_world(services.db, "demo", days=20)
        seeds = services.extras[DEMO_CUSTOMERS_KEY]()
        assert seeds and all(s.card_ids and s.device_ids for s in seeds)
        with services.db.tenant_session("demo") as s:
            from sqlalchemy import select

            from tools.payments.models import Customer

            ids = set(s.scalars(select(Customer.id)))
        assert {s.customer_id for s in seeds} == ids

        from tools.fraud.simulator import SimConfig, simulate

        frame = simulate(SimConfig(days=10, customers=tuple(seeds)))
        legit = set(frame[frame["pattern"] == "legit"]["customer_id"])
        assert legit and legit <= ids


def test_payment_tools_use_the_wired_gateway(tmp_path: Path) -> None:
    from cockpit.tenancy.principal import Principal, Role
    from cockpit.toolkit import ToolContext
    from tools.payments.tools import _gateway

    with running_app(tmp_path) as api:
        services = api.client.app.state.services  # type: ignore[attr-defined]
        ctx = ToolContext(Principal("demo", Role.ADMIN, "k"), services.db, extras=services.extras)
        assert _gateway(ctx) is services.extras["payments_gateway"]
