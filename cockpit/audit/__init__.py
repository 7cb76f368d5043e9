"""The keyed, hash-chained audit log and the signed heads that anchor it."""

from cockpit.audit.keys import AuditKey, AuditKeyError, AuditKeyring, keyring_for
from cockpit.audit.log import AuditLog, append
from cockpit.audit.verify import SignedHead, VerifyResult, signed_head, verify

__all__ = [
    "AuditKey",
    "AuditKeyError",
    "AuditKeyring",
    "AuditLog",
    "SignedHead",
    "VerifyResult",
    "append",
    "keyring_for",
    "signed_head",
    "verify",
]
