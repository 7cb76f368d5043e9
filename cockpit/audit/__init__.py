"""The hash-chained audit log."""

from cockpit.audit.log import AuditLog, VerifyResult, append, verify

__all__ = ["AuditLog", "VerifyResult", "append", "verify"]
