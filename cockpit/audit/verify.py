"""Checking a tenant's audit chain, and the signed heads that anchor it outside the database.

:func:`verify` walks a chain with the keyring and reports the first record that was edited,
removed, reordered, re-chained without the key, or chained with a key the keyring lacks; the
per-tenant head row catches removal of the newest records. A :class:`SignedHead` exported earlier
(``GET /v1/audit/head``, ``cockpit audit head``) and kept elsewhere is an anchor: the chain must
still hold that record unchanged, which catches truncation and rewrites below it even by someone
holding the key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from cockpit.audit.chain import GENESIS, KEYED, UNKEYED, canonical, record_hash
from cockpit.audit.keys import AuditKeyring, keyring_for
from cockpit.audit.models import AuditHead, AuditRecord
from cockpit.clock import utcnow
from cockpit.db.session import Database
from cockpit.errors import Conflict

HEAD_VERSION = 1


class SignedHead(BaseModel):
    """A tenant chain's newest record, signed with the audit key: an exportable anchor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: int = HEAD_VERSION
    """Shape version of this document."""
    tenant: str
    seq: int
    """Sequence number of the newest record (0: empty chain)."""
    hash: str
    """That record's chain hash (``GENESIS`` for an empty chain)."""
    kid: str
    """Key the signature was made with."""
    signed_at: str
    """ISO instant the head was signed."""
    signature: str
    """HMAC-SHA256 over every other field."""


def _head_mac(keys: AuditKeyring, head: SignedHead | dict[str, object]) -> str | None:
    fields = head.model_dump() if isinstance(head, SignedHead) else dict(head)
    key = keys.get(str(fields["kid"]))
    if key is None:
        return None
    body = {k: v for k, v in fields.items() if k != "signature"} | {"type": "audit_head"}
    return hmac.new(key.secret, canonical(body).encode(), hashlib.sha256).hexdigest()


def sign_head(
    keys: AuditKeyring, *, tenant_id: str, seq: int, hash: str, now: datetime
) -> SignedHead:
    """Sign ``(tenant, seq, hash)`` with the newest key."""
    fields: dict[str, object] = {
        "v": HEAD_VERSION,
        "tenant": tenant_id,
        "seq": seq,
        "hash": hash,
        "kid": keys.newest.kid,
        "signed_at": now.astimezone(UTC).isoformat(timespec="seconds"),
    }
    mac = _head_mac(keys, fields)
    assert mac is not None  # the newest key is in the keyring
    return SignedHead.model_validate(fields | {"signature": mac})


def head_problem(keys: AuditKeyring, head: SignedHead) -> str | None:
    """Why a signed head is not genuine, or ``None`` when its signature checks out."""
    if head.v != HEAD_VERSION:
        return f"anchor version {head.v} is not supported"
    mac = _head_mac(keys, head)
    if mac is None:
        return f"anchor signed with unknown audit key id {head.kid!r}"
    if not hmac.compare_digest(mac, head.signature):
        return "anchor signature invalid"
    return None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    tenant_id: str
    ok: bool
    records: int
    """Records verified before the first problem (all of them when ``ok``)."""
    problem: str | None = None
    at_seq: int | None = None
    legacy: int = 0
    """Unkeyed (version 1) records at the chain's start, sealed by the first keyed record."""
    head_hash: str = GENESIS
    """Hash of the newest verified record."""


def verify(
    db: Database,
    tenant_id: str,
    *,
    keys: AuditKeyring | None = None,
    anchor: SignedHead | None = None,
) -> VerifyResult:
    """Walk one tenant's chain with the keyring (default: the database's); the first problem wins."""
    keys = keys or keyring_for(db.url)
    with db.tenant_session(tenant_id) as s:
        head = s.scalars(select(AuditHead)).one_or_none()
        prev = GENESIS
        count = legacy = 0
        anchored_hash: str | None = None

        def fail(problem: str, at_seq: int | None) -> VerifyResult:
            return VerifyResult(tenant_id, False, count, problem, at_seq, legacy, prev)

        for r in s.scalars(select(AuditRecord).order_by(AuditRecord.seq)):
            if r.seq != count + 1:
                return fail("record missing", count + 1)
            if r.prev_hash != prev:
                return fail("chain link broken", r.seq)
            if r.version == UNKEYED:
                # Unkeyed records are accepted only before the first keyed one, whose HMAC covers
                # their last hash; a rewrite of them needs a SHA-256 preimage to go unnoticed.
                if legacy != count:
                    return fail("unkeyed record after keyed records", r.seq)
                digest = record_hash(
                    tenant_id=tenant_id,
                    seq=r.seq,
                    ts=r.ts,
                    kind=r.kind,
                    actor=r.actor,
                    subject=r.subject,
                    payload=r.payload,
                    prev_hash=r.prev_hash,
                    version=UNKEYED,
                )
            elif r.version == KEYED:
                key = keys.get(r.kid)
                if key is None:
                    return fail(f"chained with unknown audit key id {r.kid!r}", r.seq)
                digest = record_hash(
                    tenant_id=tenant_id,
                    seq=r.seq,
                    ts=r.ts,
                    kind=r.kind,
                    actor=r.actor,
                    subject=r.subject,
                    payload=r.payload,
                    prev_hash=r.prev_hash,
                    version=KEYED,
                    key=key,
                )
            else:
                return fail(f"unknown record version {r.version}", r.seq)
            if not hmac.compare_digest(digest, r.hash):
                return fail("record edited", r.seq)
            if r.version == UNKEYED:
                legacy += 1
            if anchor is not None and r.seq == anchor.seq:
                anchored_hash = r.hash
            prev = r.hash
            count += 1
        if head is None and count:
            return fail("chain head missing", None)
        if head is not None and (head.seq != count or head.hash != prev):
            return fail("newest records removed", count + 1)
        if legacy and legacy == count:
            # Any database writer can recompute a chain that is unkeyed all the way up.
            return fail("unkeyed chain: no keyed record seals it (run `cockpit audit seal`)", None)
        if anchor is not None:
            problem = head_problem(keys, anchor)
            if problem is None and anchor.tenant != tenant_id:
                problem = f"anchor is for tenant {anchor.tenant!r}"
            if problem is not None:
                return fail(problem, None)
            if anchor.seq > count:
                return fail("chain truncated below the anchor", count + 1)
            expected = GENESIS if anchor.seq == 0 else anchored_hash
            if expected != anchor.hash:
                return fail("anchored record changed", anchor.seq)
        return VerifyResult(tenant_id, True, count, legacy=legacy, head_hash=prev)


def signed_head(
    db: Database,
    tenant_id: str,
    *,
    keys: AuditKeyring | None = None,
    now: datetime | None = None,
) -> SignedHead:
    """Verify the chain, then sign its newest record; a broken chain gets no anchor."""
    keys = keys or keyring_for(db.url)
    result = verify(db, tenant_id, keys=keys)
    if not result.ok:
        raise Conflict(
            f"the audit chain does not verify: {result.problem}",
            code="audit_chain_invalid",
            details={"at_seq": result.at_seq},
        )
    return sign_head(
        keys,
        tenant_id=tenant_id,
        seq=result.records,
        hash=result.head_hash,
        now=now or utcnow(),
    )


__all__ = ["SignedHead", "VerifyResult", "head_problem", "sign_head", "signed_head", "verify"]
