"""Which merchant owns a tenant's collection, and what a caller bound to a merchant may do.

A collection created by a key bound to a merchant records that merchant in its Chroma
collection metadata (``merchant``); one created by a tenant-wide key, or before ownership
existed, has none and is the tenant's. A bound caller writes only its merchant's collections,
reads those and the tenant's and shared ones (writing those is 403 ``read_only_collection``),
and never sees another merchant's (404, reads included, exactly as for a name that does not
exist). Nothing here calls Chroma: the store passes the metadata it read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cockpit.errors import NotFound, PermissionDenied

OWNER_KEY = "merchant"
"""Collection metadata key: the merchant that owns a tenant collection (absent: the tenant's)."""


def owner(metadata: Mapping[str, Any] | None) -> str | None:
    """The merchant that owns a collection with this metadata (None: the whole tenant)."""
    found = (metadata or {}).get(OWNER_KEY)
    return str(found) if found else None


def visible(metadata: Mapping[str, Any] | None, merchant_id: str | None) -> bool:
    """May a caller bound to ``merchant_id`` (None: tenant-wide) see this collection?"""
    found = owner(metadata)
    return merchant_id is None or found is None or found == merchant_id


def no_collection(full: str) -> NotFound:
    """The 404 for a collection by its Chroma name (the namespace is not shown)."""
    return NotFound(
        f"no collection {full.partition('_')[2]!r}", code="collection_not_found", param="collection"
    )


def check_owner(
    metadata: Mapping[str, Any] | None, name: str, merchant_id: str | None, *, write: bool
) -> None:
    """Refuse a bound caller another merchant's collection (404), or writing the tenant's."""
    if merchant_id is None:
        return
    if not visible(metadata, merchant_id):
        raise NotFound(f"no collection {name!r}", code="collection_not_found", param="collection")
    if write and owner(metadata) is None:
        raise PermissionDenied(
            f"collection {name!r} belongs to the whole tenant: read-only to a merchant key",
            code="read_only_collection",
        )


__all__ = ["OWNER_KEY", "check_owner", "no_collection", "owner", "visible"]
