"""Who may decide an approval: the same rule for the decision route and ``command.resume``.

A pending approval is decided only by a key that could run the tool itself (its roles), for
the same merchant (a merchant-bound key decides only its own merchant's approvals; another
merchant's is a 404, as if it did not exist), and — when the spec demands four eyes — by a
key other than the one whose request caused the call.
"""

from __future__ import annotations

from collections.abc import Sequence

from langgraph.types import Interrupt
from sqlalchemy import select

from cockpit.db.session import Database
from cockpit.errors import NotFound, PermissionDenied
from cockpit.runtime.records import ApprovalRecord
from cockpit.tenancy import rights
from cockpit.tenancy.principal import Principal
from cockpit.toolkit.registry import ToolRegistry


def authorize_decision(principal: Principal, record: ApprovalRecord, tools: ToolRegistry) -> None:
    """Raise unless ``principal`` may approve, edit or reject ``record``."""
    if not rights.owns(principal, record.merchant_id):
        raise NotFound(f"no approval {record.id}", code="approval_not_found", param="approval_id")
    tools = tools.for_tenant(principal.tenant_id)
    roles = tools.get(record.tool).roles if record.tool in tools else rights.ADMINS
    if not rights.permits(principal, roles):
        raise PermissionDenied(
            f"a {principal.role.value} key may not decide a {record.tool} approval",
            code="approver_not_allowed",
        )
    if record.four_eyes and principal.key_id == record.requester_key_id:
        raise PermissionDenied(
            "this approval needs four eyes: another key must decide it",
            code="four_eyes_required",
        )


def pending_records(
    db: Database, tenant_id: str, interrupts: Sequence[Interrupt]
) -> list[ApprovalRecord]:
    """The approval records behind a thread's pending interrupts."""
    ids = [
        i.value["approval_id"]
        for i in interrupts
        if isinstance(i.value, dict) and i.value.get("type") == "approval_request"
    ]
    if not ids:
        return []
    with db.tenant_session(tenant_id) as s:
        return list(s.scalars(select(ApprovalRecord).where(ApprovalRecord.id.in_(ids))))


def resume_guard(db: Database, tools: ToolRegistry):  # type: ignore[no-untyped-def]
    """A :data:`cockpit.runtime.runs.ResumeGuard` over ``db`` and ``tools``."""

    def guard(principal: Principal, thread_id: str, interrupts: list[Interrupt]) -> None:
        for record in pending_records(db, principal.tenant_id, interrupts):
            authorize_decision(principal, record, tools)

    return guard


__all__ = ["authorize_decision", "pending_records", "resume_guard"]
