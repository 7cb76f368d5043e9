"""The LangGraph store: per-tenant (and per-merchant) JSON items in namespaces, with TTLs."""

from cockpit.store.models import StoreItem
from cockpit.store.service import (
    MAX_VALUE_BYTES,
    ItemStore,
    StoreScope,
    check_namespace,
    item_json,
    parse_namespace,
)

__all__ = [
    "MAX_VALUE_BYTES",
    "ItemStore",
    "StoreItem",
    "StoreScope",
    "check_namespace",
    "item_json",
    "parse_namespace",
]
