"""Why a mandate was refused, in AP2's own error codes (the receipt's ``error``).

| code | meaning | who is at fault |
|---|---|---|
| ``invalid_credential`` | a signature, binding, type, time, audience or nonce does not verify (terminal) | presenter |
| ``invalid_mandate`` | it verifies but does not authorise this action: other cart, amount, payee, merchant, a broken constraint, a replay, a spent budget (terminal) | presenter |
| ``unresolved_constraint`` | a constraint we cannot evaluate (unknown type, malformed); the agent may fall back to a human-present flow | presenter |
| ``mandates_not_supported`` | this merchant cannot take mandates (nothing trusted, no handler); fall back to a non-agentic flow | us |
"""

from __future__ import annotations

from typing import Literal

Ap2Code = Literal[
    "invalid_credential", "invalid_mandate", "unresolved_constraint", "mandates_not_supported"
]


class MandateRejected(Exception):
    """A mandate (chain) was refused; ``code`` is the AP2 receipt error code."""

    def __init__(self, code: Ap2Code, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.code: Ap2Code = code
        self.message = message
        self.param = param


__all__ = ["Ap2Code", "MandateRejected"]
