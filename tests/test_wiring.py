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
