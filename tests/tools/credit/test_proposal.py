"""Strategy changes derived from the live version, and applicants built from merchant activity."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

import tools.credit.tools as credit_tools
from cockpit.db.session import Database
from cockpit.errors import NotFound, PermissionDenied, ToolError, ValidationFailed
from cockpit.tenancy.principal import Principal, Role
from cockpit.tenancy.rights import permits
from cockpit.toolkit import ToolContext, ToolKind, default_registry
from tools.credit.activity import ACTIVITY_SOURCE_KEY
from tools.credit.catalog import builtin_scorecard
from tools.credit.proposal import boundary_tests, derive, read_settings
from tools.credit.service import service_for
from tools.credit.startup import seed_examples
from tools.credit.strategy import CompiledStrategy, parse_spec

T = "t1"


def _ctx(
    db: Database,
    role: Role = Role.PARTNER,
    *,
    merchant: str | None = None,
    key: str | None = "call-1",
    extras: dict[str, Any] | None = None,
) -> ToolContext:
    return ToolContext(
        principal=Principal(T, role, f"{role.value}-key", merchant),
        db=db,
        idempotency_key=key,
        extras=extras or {},
    )


def _run_tests(body: dict[str, Any]) -> Any:
    spec = parse_spec(body)
    return CompiledStrategy("t", spec, builtin_scorecard(spec.scorecard)).run_tests()


@pytest.fixture
def live_db(db: Database) -> Database:
    seed_examples(service_for(db), T)
    return db


# ----- derive ----------------------------------------------------------------------------------


def test_derive_edits_the_named_cells_and_regenerates_tests_that_pin_them(
    merchant_spec: dict[str, Any],
) -> None:
    derived = derive(
        merchant_spec, {"approve_cutoff": 560, "max_dispute_rate": 0.01}, base_label="v1"
    )
    model = derived.body["decision_model"]
    assert read_settings(model) == {
        **read_settings(merchant_spec["decision_model"]),
        "approve_cutoff": 560.0,
        "max_dispute_rate": 0.01,
    }
    assert [c["text"] for c in derived.changes] == [
        "approval cut-off score 534 → 560",
        "dispute-rate knock-out 1.5% → 1%",
    ]
    assert {(c["rule"], c["column"], c["to"]) for c in derived.cells} == {
        ("standard", "i_s", ">= 560"),
        ("disputes", "k_disp", "> 0.01"),
        ("disputes", "ko_text", '"Dispute rate above 1%"'),
    }
    report = _run_tests(derived.body)
    assert report.passed and report.total >= 9
    # The regenerated tests really pin the new boundaries: on the old rules they fail.
    stale = copy.deepcopy(merchant_spec)
    stale["decision_model"]["tests"] = model["tests"]
    old = _run_tests(stale)
    failing = {r.name for r in old.results if not r.passed}
    assert "standard at the approval cut-off 560" not in failing  # 560 ≥ 534: still approves
    assert "just below the approval cut-off (559): refer" in failing
    assert any("above the 1% knock-out" in n for n in failing)
    assert merchant_spec["decision_model"]["nodes"] != model["nodes"]  # base untouched (copy)


@pytest.mark.parametrize(
    "changes",
    [
        {"prime_cutoff": 600, "prime_limit_multiple": 2.5, "prime_apr": 7.9},
        {"refer_floor": 534, "standard_apr": 16.0, "standard_limit_multiple": 0.8},
        {"min_tenure_months": 12, "max_dispute_rate": 0.009},
        {"min_tenure_months": 0, "approve_cutoff": 580},
    ],
)
def test_every_setting_yields_a_passing_version(
    merchant_spec: dict[str, Any], changes: dict[str, float]
) -> None:
    derived = derive(merchant_spec, changes, base_label="v1")
    assert {c["setting"] for c in derived.changes} == set(changes)
    assert _run_tests(derived.body).passed


def test_derive_refuses_what_it_cannot_do_honestly(
    merchant_spec: dict[str, Any], consumer_spec: dict[str, Any]
) -> None:
    cases = [
        (merchant_spec, {}, "no_changes"),
        (merchant_spec, {"approve_cutoff": 534}, "no_effective_change"),
        (merchant_spec, {"approve_cutoff": 600}, "cutoffs_out_of_order"),
        (merchant_spec, {"refer_floor": 540}, "cutoffs_out_of_order"),
        (merchant_spec, {"approve_cutoff": 560.5}, "invalid_change"),
        (consumer_spec, {"max_dispute_rate": 0.01}, "strategy_not_editable"),
    ]
    for base, changes, code in cases:
        with pytest.raises(ValidationFailed) as err:
            derive(base, changes, base_label="v1")
        assert err.value.code == code, (changes, err.value.message)


def test_boundary_tests_skip_bands_that_do_not_exist() -> None:
    values = {
        "prime_cutoff": 560.0,
        "approve_cutoff": 560.0,
        "refer_floor": 560.0,
        "max_dispute_rate": 0.01,
        "min_tenure_months": 0.0,
        "prime_limit_multiple": 2.0,
        "standard_limit_multiple": 1.0,
        "prime_apr": 8.5,
        "standard_apr": 14.5,
    }
    names = [t["name"] for t in boundary_tests(values)]
    assert not any("standard" in n or "tenure" in n or "refer at" in n for n in names)
    assert "just below the approval cut-off (559): decline" in names


# ----- the tool --------------------------------------------------------------------------------


def test_propose_tool_creates_a_version_that_is_not_live(live_db: Database) -> None:
    tool = default_registry.get("credit_propose_strategy")
    assert tool.kind is ToolKind.WRITE and tool.amount_field is None
    svc = service_for(live_db)
    before = svc.deployment(T, "merchant-default")
    # The local planner passes the words it matched; the number at their end is the value.
    args = credit_tools.ProposeArgs.model_validate(
        {"approve_cutoff": "approval cut-off to 560", "max_dispute_rate_pct": "1% disputes"}
    )
    assert (args.approve_cutoff, args.max_dispute_rate_pct) == (560, 1.0)
    out = credit_tools.credit_propose_strategy(_ctx(live_db), args)
    assert out["live"] is False and out["existing"] is False and out["tests"]["passed"]
    assert out["derived_from"]["version_id"] == before["champion_version_id"]
    assert [c["setting"] for c in out["changes"]] == ["approve_cutoff", "max_dispute_rate"]
    stored = svc.get_version(T, out["version_id"])
    assert stored["tests_passed"] and stored["version"] == out["version"] == 2
    assert svc.deployment(T, "merchant-default")["id"] == before["id"]
    # The same change again is the same document: no second version.
    again = credit_tools.credit_propose_strategy(_ctx(live_db, key="call-2"), args)
    assert again["version_id"] == out["version_id"] and again["existing"] is True
    assert len(svc.list_versions(T, name="merchant-default")) == 2
    # It deploys like any version (the deploy tool stays the approval-gated step).
    dep = credit_tools.credit_deploy_strategy(
        _ctx(live_db, key="dep-1"), credit_tools.DeployArgs(version_id=out["version_id"])
    )
    assert svc.deployment(T, "merchant-default")["champion_version_id"] == out["version_id"]
    assert dep["previous_champion_version_id"] == before["champion_version_id"]


def test_propose_tool_is_for_analysts_and_live_slots(live_db: Database) -> None:
    # Who may propose is the tool's declared roles, checked by the runtime for every caller.
    roles = default_registry.get("credit_propose_strategy").roles
    assert not permits(Principal(T, Role.MERCHANT, "m", "m1"), roles)
    assert permits(Principal(T, Role.PARTNER, "p"), roles)
    with pytest.raises(NotFound):
        credit_tools.credit_propose_strategy(
            _ctx(live_db), credit_tools.ProposeArgs(strategy="nowhere", approve_cutoff=560)
        )
    with pytest.raises(ValidationFailed) as bad:
        credit_tools.credit_propose_strategy(
            _ctx(live_db), credit_tools.ProposeArgs(strategy="consumer-default", prime_apr=7.0)
        )
    assert bad.value.code == "strategy_not_editable"
    assert len(service_for(live_db).list_versions(T, name="merchant-default")) == 1


# ----- applicants from activity -----------------------------------------------------------------


@dataclass
class StubActivity:
    merchant_id: str
    monthly_volumes: tuple[float, ...] = (30_000.0,) * 6
    transactions: int = 1_000
    disputes: int = 2
    refunded_volume: float = 3_000.0
    tenure_months: int = 40
    mcc_risk: str = "low"
    market: str = "EU"
    merchant_name: str = "Stub Shop"
    as_of: datetime = field(default_factory=lambda: datetime(2026, 11, 2, tzinfo=UTC))

    def to_dict(self) -> dict[str, object]:
        return {"merchant_id": self.merchant_id}


class StubSource:
    def __init__(self, **overrides: Any) -> None:
        self.calls: list[str] = []
        self.overrides = overrides

    def activity(
        self, tenant_id: str, merchant_id: str, *, months: int = 6, as_of: Any = None
    ) -> StubActivity:
        if merchant_id == "m_unknown":
            raise NotFound("no merchant", code="merchant_not_found", param="merchant_id")
        self.calls.append(merchant_id)
        return StubActivity(merchant_id, **self.overrides)


def test_preview_builds_the_applicant_from_the_keys_own_merchant(live_db: Database) -> None:
    source = StubSource()
    extras = {ACTIVITY_SOURCE_KEY: source}
    merchant = _ctx(live_db, Role.MERCHANT, merchant="m1", extras=extras)
    out = credit_tools.credit_decide_preview(merchant, credit_tools.PreviewArgs())
    assert source.calls == ["m1"] and out["strategy"] == "merchant-default"
    assert out["applicant"]["monthly_revenue"] == 30_000 and out["applicant"]["tenure_months"] == 40
    assert out["applicant"]["requested_amount"] == 30_000  # one month of revenue by default
    assert out["figures"]["dispute_rate_pct"] == 0.2 and out["figures"]["merchant_id"] == "m1"
    with pytest.raises(NotFound):  # a merchant key cannot name another merchant
        credit_tools.credit_decide_preview(merchant, credit_tools.PreviewArgs(merchant_id="m2"))
    admin = _ctx(live_db, Role.ADMIN, extras=extras)
    with pytest.raises(ValidationFailed) as err:
        credit_tools.credit_decide_preview(admin, credit_tools.PreviewArgs())
    assert err.value.code == "merchant_required"
    named = credit_tools.credit_decide_preview(
        admin, credit_tools.PreviewArgs(merchant_id="m2", requested_amount=45_000)
    )
    assert (
        named["figures"]["merchant_id"] == "m2" and named["applicant"]["requested_amount"] == 45_000
    )
    with pytest.raises(NotFound):
        credit_tools.credit_decide_preview(admin, credit_tools.PreviewArgs(merchant_id="m_unknown"))
    with pytest.raises(ToolError) as unwired:
        credit_tools.credit_decide_preview(
            _ctx(live_db, Role.MERCHANT, merchant="m1"), credit_tools.PreviewArgs()
        )
    assert unwired.value.code == "activity_unavailable"


def test_short_history_and_merchant_supplied_applicants_are_refused(live_db: Database) -> None:
    short = {ACTIVITY_SOURCE_KEY: StubSource(monthly_volumes=(5_000.0,) * 4, tenure_months=4)}
    with pytest.raises(ValidationFailed) as err:
        credit_tools.credit_decide_preview(
            _ctx(live_db, Role.MERCHANT, merchant="m1", extras=short), credit_tools.PreviewArgs()
        )
    assert err.value.code == "insufficient_history"
    extras = {ACTIVITY_SOURCE_KEY: StubSource()}
    merchant = _ctx(live_db, Role.MERCHANT, merchant="m1", key="fd-1", extras=extras)
    with pytest.raises(PermissionDenied) as denied:
        credit_tools.credit_final_decision(
            merchant,
            credit_tools.FinalDecisionArgs(
                application_id="A-1",
                applicant={"monthly_revenue": 1e6},
                amount=100_000,
                currency="EUR",
            ),
        )
    assert denied.value.code == "applicant_not_allowed"
    record = credit_tools.credit_final_decision(
        merchant,
        credit_tools.FinalDecisionArgs(application_id="A-1", amount=1_000_000, currency="EUR"),
    )
    stored = service_for(live_db).explain(T, record["id"])
    assert stored["applicant"]["requested_amount"] == 10_000  # the granted amount was asked for
    assert record["figures"]["merchant_id"] == "m1" and stored["kind"] == "final"
