"""Tool policy, enforced in code before any tool runs, whatever the model asked for."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cockpit.errors import PolicyViolation, RateLimited
from cockpit.money import format_amount, is_known
from cockpit.specs.spec import AgentSpec
from cockpit.tenancy import rights
from cockpit.tenancy.principal import Principal
from cockpit.toolkit.registry import ToolDef, ToolKind

#: Argument names that would let a model choose whose data it touches.
IDENTITY_ARGS = frozenset(
    {"tenant_id", "tenant", "principal", "api_key", "key_id", "caller", "role", "idempotency_key"}
)


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    needs_approval: bool
    amount: int | None
    currency: str | None
    reason: str


class RateLimiter:
    """Sliding-window call counter per (tenant, agent, tool), in this process."""

    def __init__(self) -> None:
        self._calls: dict[tuple[str, str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: tuple[str, str, str], *, calls: int, per_seconds: int) -> bool:
        now = time.monotonic()
        with self._lock:
            window = self._calls.setdefault(key, deque())
            while window and now - window[0] > per_seconds:
                window.popleft()
            if len(window) >= calls:
                return False
            window.append(now)
            return True


def check_allowed(
    spec: AgentSpec,
    tool: ToolDef | None,
    tool_name: str,
    supplied: Iterable[str],
    *,
    principal: Principal,
    tenant_allowlist: list[str] | None,
) -> ToolDef:
    """Refuse a call before its arguments are even read: a tool outside the spec or the
    tenant's allowlist, a caller whose key may not run it, identity smuggled in arguments."""
    if spec.policy(tool_name) is None or tool is None:
        raise PolicyViolation(
            f"agent {spec.id!r} may not call tool {tool_name!r}",
            code="tool_not_allowed",
            param="tool",
        )
    if tenant_allowlist is not None and tool_name not in tenant_allowlist:
        raise PolicyViolation(
            f"tool {tool_name!r} is not enabled for this tenant",
            code="tool_not_enabled",
            param="tool",
        )
    if not rights.permits(principal, tool.roles):
        # The agent acts for the caller: it has the caller's rights, never more.
        raise PolicyViolation(
            f"{tool_name} cannot be run for a {principal.role.value} key",
            code="role_required",
            param="tool",
        )
    smuggled = IDENTITY_ARGS & set(supplied)
    if smuggled:
        raise PolicyViolation(
            f"identity is injected by the platform; the model may not set {sorted(smuggled)}",
            code="identity_argument",
            param=sorted(smuggled)[0],
        )
    return tool


def check_call(
    spec: AgentSpec,
    tool: ToolDef,
    tool_name: str,
    args: dict[str, Any],
    *,
    tenant_id: str,
    limiter: RateLimiter,
) -> PolicyDecision:
    """Limits, rate and approval on the *validated* arguments (what the tool will receive)."""
    policy = spec.policy(tool_name)
    if policy is None:
        raise PolicyViolation(
            f"agent {spec.id!r} may not call tool {tool_name!r}", code="tool_not_allowed"
        )
    if policy.rate_limit is not None and not limiter.hit(
        (tenant_id, spec.id, tool_name),
        calls=policy.rate_limit.calls,
        per_seconds=policy.rate_limit.per_seconds,
    ):
        raise RateLimited(
            f"{tool_name} is limited to {policy.rate_limit.calls} calls per "
            f"{policy.rate_limit.per_seconds}s",
            code="tool_rate_limited",
        )

    amount: int | None = None
    currency: str | None = None
    if tool.amount_field is not None:
        value = args.get(tool.amount_field)
        amount = value if isinstance(value, int) and not isinstance(value, bool) else None
        if tool.currency_field is not None:
            cur = args.get(tool.currency_field)
            currency = cur.upper() if isinstance(cur, str) else None
    if policy.max_amount is not None and amount is not None:
        if currency is None or currency not in policy.max_amount:
            raise PolicyViolation(
                f"{tool_name}: currency {currency!r} is not allowed for this agent",
                code="currency_not_allowed",
                param=tool.currency_field,
            )
        if amount > policy.max_amount[currency]:
            raise PolicyViolation(
                f"{tool_name}: amount {amount} exceeds this agent's limit of "
                f"{policy.max_amount[currency]} {currency} (minor units)",
                code="amount_over_limit",
                param=tool.amount_field,
            )

    if tool.kind is ToolKind.READ or policy.approval is None:
        return PolicyDecision(False, amount, currency, "")
    rule = policy.approval
    if rule.always:
        return PolicyDecision(True, amount, currency, f"every {tool_name} call needs approval")
    if rule.above is not None:
        if amount is None:
            return PolicyDecision(
                True, amount, currency, "amount could not be read; approval needed"
            )
        threshold = rule.above.get(currency or "")
        if threshold is None:
            return PolicyDecision(
                True, amount, currency, f"no approval threshold set for {currency}; approval needed"
            )
        if amount > threshold:
            return PolicyDecision(
                True,
                amount,
                currency,
                f"{_amount(amount, currency)} is above the approval threshold of "
                f"{_amount(threshold, currency)}",
            )
    return PolicyDecision(False, amount, currency, "")


def _amount(minor: int, currency: str | None) -> str:
    """Major units for people ("120.00 SGD"); minor units when the currency is unknown."""
    if currency and is_known(currency):
        return format_amount(minor, currency)
    return f"{minor} (minor units) {currency or ''}".rstrip()


__all__ = ["IDENTITY_ARGS", "PolicyDecision", "RateLimiter", "check_allowed", "check_call"]
