"""``GET /.well-known/acp.json``: what an agent learns before it has a key.

Public and cacheable (``Cache-Control: public, max-age=3600``). It names the protocol
version, where the API is (``api_base_url`` = the request's base + ``/acp``), the transports
(REST, and MCP at ``/mcp``), the services, the extensions (``discount``), the interventions
and the currencies the demo catalogues are priced in. It never names a merchant: a shopper key decides the merchant.
"""

from __future__ import annotations

from typing import Any

from tools.commerce.acp.catalog import TEMPLATES
from tools.commerce.acp.checkout import SELLER_INTERVENTIONS
from tools.commerce.acp.discounts import DECLARATION, EXTENSION
from tools.commerce.acp.wire import API_VERSION, SUPPORTED_VERSIONS

CACHE_CONTROL = "public, max-age=3600"
DOCUMENTATION_URL = "https://agenticcommerce.dev"


def discovery(base_url: str) -> dict[str, Any]:
    """The ``DiscoveryResponse`` of this server, reached at ``base_url``."""
    currencies = sorted({t.currency.lower() for t in TEMPLATES.values()})
    return {
        "protocol": {
            "name": "acp",
            "version": API_VERSION,
            "supported_versions": list(SUPPORTED_VERSIONS),
            "documentation_url": DOCUMENTATION_URL,
        },
        "api_base_url": base_url.rstrip("/") + "/acp",
        "transports": ["rest", "mcp"],
        "capabilities": {
            "services": ["checkout", "orders", "delegate_payment"],
            "extensions": [{"name": EXTENSION, "schema": DECLARATION["schema"]}],
            "intervention_types": list(SELLER_INTERVENTIONS),
            "supported_currencies": currencies,
            "supported_locales": ["en-US"],
        },
    }


__all__ = ["CACHE_CONTROL", "discovery"]
