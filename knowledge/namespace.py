"""Tenant namespaces: how a tenant's collection name maps to a Chroma collection.

Every Chroma collection name is ``<namespace>_<name>``: the namespace is
``t`` + 20 hex digits of the tenant id's SHA-256 for tenant collections, and
``shared`` for the read-only collections every tenant may search. Names never
contain ``_``, so a name can never reach into another namespace.
"""

from __future__ import annotations

import hashlib
import re

from cockpit.errors import ValidationFailed

SHARED_NAMESPACE = "shared"
#: Our corpus; read-only for tenants.
SHARED_COLLECTION = "cockpit-docs"

_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])?$")


def tenant_namespace(tenant_id: str) -> str:
    """The namespace of a tenant; refuses an empty tenant (no unscoped path)."""
    if not isinstance(tenant_id, str) or not tenant_id.strip():
        raise ValidationFailed(
            "a tenant is required for every knowledge operation",
            code="tenant_required",
            param="tenant_id",
        )
    return "t" + hashlib.sha256(tenant_id.encode("utf-8")).hexdigest()[:20]


def check_name(name: str) -> str:
    """Validate a caller-facing collection name (3–63 chars, lower-case, digits, '-')."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationFailed(
            "collection names are 3–63 characters of a–z, 0–9 and '-', starting and ending with a letter or digit",
            code="invalid_collection_name",
            param="collection",
        )
    return name


def full_name(namespace: str, name: str) -> str:
    return f"{namespace}_{check_name(name)}"


def split_full_name(full: str) -> tuple[str, str] | None:
    namespace, sep, name = full.partition("_")
    return (namespace, name) if sep and _NAME.match(name) else None


__all__ = [
    "SHARED_COLLECTION",
    "SHARED_NAMESPACE",
    "check_name",
    "full_name",
    "split_full_name",
    "tenant_namespace",
]
