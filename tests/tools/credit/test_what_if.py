"""Credit what-ifs: a draft of the live strategy is backtested against the live champion and
nothing is stored — no version proposed, nothing deployed — so merchants may ask too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import tools.credit.tools as credit_tools
from cockpit.api.deps import RequestContext, request_context
from cockpit.api.errors import install_error_handlers
from cockpit.config import Settings
from cockpit.db.session import Database
from cockpit.errors import NotFound, ValidationFailed
from cockpit.tenancy.principal import Principal, Role
from cockpit.tenancy.rights import STAFF, permits
from cockpit.toolkit import ToolContext, ToolKind, default_registry
from tools.credit.router import router
from tools.credit.service import service_for
from tools.credit.startup import seed_examples

T = "t_whatif"


@pytest.fixture
def live_db(db: Database) -> Database:
    seed_examples(service_for(db), T)
    return db


def _ctx(db: Database, role: Role = Role.MERCHANT, merchant: str | None = "mer_1") -> ToolContext:
    return ToolContext(principal=Principal(T, role, f"{role.value}-key", merchant), db=db)


def _stored(db: Database) -> tuple[int, str]:
    svc = service_for(db)
    return (
        len(svc.list_versions(T, name="merchant-default")),
        svc.deployment(T, "merchant-default")["id"],
    )


def test_what_if_is_a_read_merchants_and_partners_may_run() -> None:
    tool = default_registry.get("credit_what_if")
    assert tool.kind is ToolKind.READ and tool.roles == STAFF
    assert tool.rest == ("POST", "/v1/credit/what-if")
    assert permits(Principal(T, Role.MERCHANT, "m", "mer_1"), tool.roles)
    assert permits(Principal(T, Role.PARTNER, "p"), tool.roles)


def test_a_higher_minimum_score_is_backtested_without_storing_anything(live_db: Database) -> None:
    before = _stored(live_db)
    args = credit_tools.WhatIfArgs.model_validate({"min_score": "minimum score 600"})
    out = credit_tools.credit_what_if(_ctx(live_db), args)
    assert (out["proposed"], out["deployed"]) == (False, False)
    # 600 is above the live prime cut-off (580): prime rises with it, and the answer says so.
    moved = {c["setting"]: c["to"] for c in out["changes"]}
    assert moved == {"approve_cutoff": 600, "prime_cutoff": 600}
    assert out["strategy"] == "merchant-default" and out["applicants"] > 0
    b, a = out["before"], out["after"]
    assert {"approval_rate", "bad_rate", "expected_loss"} <= set(a) and set(a) == set(b)
    # A stricter cut-off approves no one the champion declined, and changes some decisions.
    assert out["newly_approved"] == 0
    assert out["decisions_changed"] > 0
    assert a["approval_rate"] <= b["approval_rate"]
    assert out["delta"]["approval_rate"] == pytest.approx(a["approval_rate"] - b["approval_rate"])
    assert _stored(live_db) == before  # no version, no deployment


def test_what_if_errors_name_the_setting(live_db: Database) -> None:
    with pytest.raises(ValidationFailed) as none:
        credit_tools.credit_what_if(_ctx(live_db), credit_tools.WhatIfArgs())
    assert none.value.code == "no_changes"
    with pytest.raises(NotFound):
        credit_tools.credit_what_if(
            _ctx(live_db), credit_tools.WhatIfArgs(strategy="nowhere", approve_cutoff=600)
        )


def test_the_rest_twin_admits_merchants(live_db: Database, tmp_path: Path) -> None:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)

    def ctx() -> RequestContext:
        return RequestContext(
            principal=Principal(T, Role.MERCHANT, "m-key", "mer_1"),
            db=live_db,
            settings=Settings(data_dir=tmp_path / "data"),
            extras={},
        )

    app.dependency_overrides[request_context] = ctx
    http = TestClient(app, raise_server_exceptions=False)
    before = _stored(live_db)
    r = http.post("/v1/credit/what-if", json={"approve_cutoff": 570})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["changes"][0]["to"] == 570 and body["deployed"] is False
    # Named alone, a cut-off that breaks the order is refused with the reason.
    r = http.post("/v1/credit/what-if", json={"approve_cutoff": 600})
    assert r.status_code == 422 and r.json()["code"] == "cutoffs_out_of_order"
    assert _stored(live_db) == before
    assert http.post("/v1/credit/what-if", json={"approve_cutoff": 5000}).status_code == 422


def test_credit_ids_of_the_wrong_kind_are_refused(live_db: Database) -> None:
    partner = _ctx(live_db, Role.PARTNER, None)
    with pytest.raises(ValidationFailed) as err:
        credit_tools.credit_explain(partner, credit_tools.ExplainArgs(decision_id="pay_123"))
    assert (err.value.code, err.value.param) == ("wrong_id_kind", "decision_id")
    assert "is a payment id, not a credit decision id" in err.value.message
    with pytest.raises(ValidationFailed) as err:
        credit_tools.credit_backtest(partner, credit_tools.BacktestArgs(version_id="cdec_1"))
    assert (err.value.code, err.value.param) == ("wrong_id_kind", "version_id")
    with pytest.raises(ValidationFailed) as err:
        credit_tools.credit_decide_preview(partner, credit_tools.PreviewArgs(merchant_id="pay_9"))
    assert (err.value.code, err.value.param) == ("wrong_id_kind", "merchant_id")
