"""How one audit record is hashed into its tenant's chain, per hash scheme version.

Version 1 is bare SHA-256 over the previous hash and the record: anyone who can write the
database can recompute it, so it is only read, never written. Version 2 is HMAC-SHA256 with a key
held outside the database (:mod:`cockpit.audit.keys`); the key id is part of what is signed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from cockpit.audit.keys import AuditKey

GENESIS = "0" * 64
UNKEYED = 1
KEYED = 2
CURRENT_VERSION = KEYED


def canonical(obj: Any) -> str:
    """The one JSON spelling that is hashed: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def record_hash(
    *,
    tenant_id: str,
    seq: int,
    ts: str,
    kind: str,
    actor: str,
    subject: str,
    payload: dict[str, Any],
    prev_hash: str,
    version: int = CURRENT_VERSION,
    key: AuditKey | None = None,
) -> str:
    """The record's chain hash; version 2 needs the key it names."""
    fields: dict[str, Any] = {
        "tenant": tenant_id,
        "seq": seq,
        "ts": ts,
        "kind": kind,
        "actor": actor,
        "subject": subject,
        "payload": payload,
    }
    if version == UNKEYED:
        return hashlib.sha256((prev_hash + canonical(fields)).encode()).hexdigest()
    if version != KEYED or key is None:
        raise ValueError(f"audit record version {version} needs a key")
    fields |= {"v": KEYED, "kid": key.kid}
    message = (prev_hash + canonical(fields)).encode()
    return hmac.new(key.secret, message, hashlib.sha256).hexdigest()


__all__ = ["CURRENT_VERSION", "GENESIS", "KEYED", "UNKEYED", "canonical", "record_hash"]
