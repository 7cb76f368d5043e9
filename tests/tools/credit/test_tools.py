"""Agent tools: kinds, policy fields, idempotent writes, readable errors."""

from __future__ import annotations

from typing import Any

import pytest

import tools.credit.tools as credit_tools
from cockpit.db.session import Database
from cockpit.errors import ToolError
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit import ToolContext, ToolKind, default_registry
from tools.credit.service import service_for


def _ctx(db: Database, key: str | None = None, tenant: str = "t1") -> ToolContext:
    return ToolContext(
        principal=Principal(tenant, Role.PARTNER, "agent-key"), db=db, idempotency_key=key
    )


def test_tools_are_registered_with_their_kinds() -> None:
    kinds = {
        n: default_registry.get(n).kind
        for n in (
            "credit_decide_preview",
            "credit_explain",
            "credit_backtest",
            "credit_deploy_strategy",
            "credit_final_decision",
        )
    }
    assert kinds == {
        "credit_decide_preview": ToolKind.READ,
        "credit_explain": ToolKind.READ,
        "credit_backtest": ToolKind.READ,
        "credit_deploy_strategy": ToolKind.WRITE,
        "credit_final_decision": ToolKind.WRITE,
    }
    final = default_registry.get("credit_final_decision")
    assert (final.amount_field, final.currency_field) == ("amount", "currency")
    assert "tenant" not in str(final.json_schema()).lower()


def test_agent_flow_preview_deploy_decide_explain(
    db: Database, consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    svc = service_for(db)
    vid = svc.create_version("t1", consumer_spec, created_by="analyst")["id"]
    bt = credit_tools.credit_backtest(_ctx(db), credit_tools.BacktestArgs(version_id=vid))
    assert bt["strategy"]["n"] == 300
    with pytest.raises(ToolError):
        credit_tools.credit_deploy_strategy(_ctx(db), credit_tools.DeployArgs(version_id=vid))
    d1 = credit_tools.credit_deploy_strategy(
        _ctx(db, "call-1"), credit_tools.DeployArgs(version_id=vid)
    )
    d2 = credit_tools.credit_deploy_strategy(
        _ctx(db, "call-1"), credit_tools.DeployArgs(version_id=vid)
    )
    assert d1["id"] == d2["id"] and d2["replayed"]

    row = next(
        r for r in german_rows if svc.preview("t1", "consumer-default", r)[1].outcome == "approve"
    )
    preview = credit_tools.credit_decide_preview(_ctx(db), credit_tools.PreviewArgs(applicant=row))
    assert preview["decision"] == "approve" and preview["trace"]
    amount = round(preview["limit"] * 100)
    args = credit_tools.FinalDecisionArgs(
        application_id="A-9", applicant=row, amount=amount, currency="EUR"
    )
    first = credit_tools.credit_final_decision(_ctx(db, "call-2"), args)
    again = credit_tools.credit_final_decision(_ctx(db, "call-2"), args)
    assert first["id"] == again["id"] and again["replayed"] and first["limit_minor"] == amount
    explained = credit_tools.credit_explain(
        _ctx(db), credit_tools.ExplainArgs(decision_id=first["id"])
    )
    assert explained["kind"] == "final" and explained["decision"] == "approve"
    with pytest.raises(ToolError) as err:
        credit_tools.credit_final_decision(
            _ctx(db, "call-3"),
            credit_tools.FinalDecisionArgs(
                application_id="A-9", applicant=row, amount=amount + 1, currency="EUR"
            ),
        )
    assert err.value.code == "amount_above_limit"


def test_merchant_keys_cannot_backtest_or_deploy_through_the_agent(
    db: Database, consumer_spec: dict[str, Any]
) -> None:
    from cockpit.errors import PolicyViolation
    from cockpit.runtime.policy import check_allowed
    from cockpit.specs.spec import AgentSpec
    from cockpit.toolkit import default_registry

    service_for(db).create_version("t1", consumer_spec, created_by="analyst")
    merchant = Principal("t1", Role.MERCHANT, "m-key")
    # Strategy tools declare partner roles; the runtime refuses them for a merchant's key
    # before any argument is read (the same rule as the REST routes).
    for name in ("credit_backtest", "credit_deploy_strategy", "credit_propose_strategy"):
        spec = AgentSpec(
            id="credit-test",
            name="t",
            description="credit test agent",
            instructions="-",
            tools=[{"name": name}],
        )
        with pytest.raises(PolicyViolation) as refused:
            check_allowed(
                spec,
                default_registry.get(name),
                name,
                {},
                principal=merchant,
                tenant_allowlist=None,
            )
        assert refused.value.code == "role_required"
    with pytest.raises(Exception):  # noqa: B017 - nothing is live for the slot
        service_for(db).live_deployment("t1", consumer_spec["name"])
