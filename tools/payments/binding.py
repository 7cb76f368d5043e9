"""Whether a merchant id names one of a tenant's merchants: the check behind binding an API key
to a merchant (``KeyService(merchant_exists=...)``).

A module of its own, light to import, because the composition roots pass it to the core: the
app at start-up and ``cockpit keys create``, which used to import the whole app (every router,
the runtime, LangChain, MCP: ~8 s of CPU) to get it before writing one key row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cockpit.db.session import Database


def merchant_exists(db: Database) -> Callable[[str, str], bool]:
    """``exists(tenant_id, merchant_id)`` over ``db``; the models load at the first check."""

    def exists(tenant_id: str, merchant_id: str) -> bool:
        from sqlalchemy import select

        from tools.payments.models import Merchant

        with db.tenant_session(tenant_id) as s:
            found = s.scalar(
                select(Merchant.id).where(
                    Merchant.tenant_id == tenant_id, Merchant.id == merchant_id
                )
            )
        return found is not None

    return exists


__all__ = ["merchant_exists"]
