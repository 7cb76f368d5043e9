"""Guardrails: redaction of PII and secrets, and screens on untrusted content."""

from cockpit.guardrails.redact import REDACTED, luhn_ok, redact, redact_text

__all__ = ["REDACTED", "luhn_ok", "redact", "redact_text"]
