"""Payment notes (``description``, ``metadata``) and the dispute-monitoring agent tool.

Notes go in through the HTTP create-payment route, are stored on the payment and come back in
every payment view (HTTP and ``payments_get_payment``). Bad notes are refused with
``{type, code, message, param}`` before anything is written.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select

from cockpit.api.deps import RequestContext, request_context
from cockpit.api.errors import install_error_handlers
from cockpit.config import Settings
from cockpit.db import migrate as core_migrate
from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.errors import NotFound, ToolError, ValidationFailed
from cockpit.idempotency import fingerprint
from cockpit.tenancy.principal import Principal, Role
from cockpit.toolkit import ToolContext, ToolKind, default_registry
from tests.tools.payments.conftest import PAYMENTS_VERSIONS, AlwaysApprove, seed_basic
from tools.payments import analytics
from tools.payments.disputes import Disputes
from tools.payments.gateway import Gateway, PayRequest
from tools.payments.models import Payment
from tools.payments.router import router
from tools.payments.startup import GATEWAY_KEY
from tools.payments.tools import DisputeMonitoringArgs, PaymentArgs
from tools.payments.tools import dispute_monitoring as monitoring_tool
from tools.payments.tools import get_payment as get_payment_tool

T = "t_test"
PAY: dict[str, Any] = {"amount": {"currency": "SGD", "value": "10000"}, "card_id": "card_visa"}
NOTE = "Order #1182: 2 x USB-C hub, ship to Tampines"
META = {"order_id": "1182", "channel": "web"}


def api_for(db: Database, *, merchant: str | None = "m_sg") -> TestClient:
    """The payments router with the app's real error handlers."""
    app = FastAPI()
    app.include_router(router)
    install_error_handlers(app)
    gw = Gateway(db, simulator=AlwaysApprove())
    ctx = RequestContext(
        principal=Principal(T, Role.MERCHANT, "key_1", merchant),
        db=db,
        settings=Settings(),
        extras={GATEWAY_KEY: gw},
    )
    app.dependency_overrides[request_context] = lambda: ctx
    return TestClient(app)


def tool_ctx(
    db: Database, *, merchant: str | None = "m_sg", role: Role = Role.MERCHANT
) -> ToolContext:
    return ToolContext(principal=Principal(T, role, "key_1", merchant), db=db)


def payments_count(db: Database) -> int:
    with db.tenant_session(T) as s:
        return int(s.scalar(select(func.count()).select_from(Payment)) or 0)


def create(api: TestClient, key: str, **extra: Any) -> Any:
    return api.post(
        "/v1/payments/payments", json={**PAY, **extra}, headers={"Idempotency-Key": key}
    )


# ----- valid notes --------------------------------------------------------------------------


def test_notes_are_stored_and_returned_by_http_and_the_agent_tool(seeded_any: Database) -> None:
    seeded = seeded_any
    api = api_for(seeded)
    r = create(api, "n-1", description=NOTE, metadata=META)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["description"] == NOTE and body["metadata"] == META
    pid = body["paymentId"]
    with seeded.tenant_session(T) as s:
        row = s.get(Payment, pid)
        assert row is not None and row.description == NOTE and row.metadata_ == META
    got = api.get(f"/v1/payments/payments/{pid}").json()
    assert got["description"] == NOTE and got["metadata"] == META
    out = get_payment_tool(tool_ctx(seeded), PaymentArgs(payment_id=pid))
    assert out["description"] == NOTE and out["metadata"] == META
    listed = api.get("/v1/payments/payments").json()["data"]
    assert [p["description"] for p in listed if p["paymentId"] == pid] == [NOTE]


def test_limits_are_inclusive(seeded: Database) -> None:
    api = api_for(seeded)
    meta = {f"k{i:02d}": "v" * 500 for i in range(20)}
    meta["k" * 40] = meta.pop("k00")
    r = create(api, "n-max", description="d" * 500, metadata=meta)
    assert r.status_code == 200, r.text
    assert len(r.json()["description"]) == 500 and r.json()["metadata"] == meta


def test_payment_without_notes_has_empty_notes_and_an_unchanged_fingerprint(
    seeded: Database,
) -> None:
    api = api_for(seeded)
    r = create(api, "plain")
    assert r.status_code == 200, r.text
    assert r.json()["description"] is None and r.json()["metadata"] == {}
    # A request without notes fingerprints exactly as before payments had notes, so replays
    # of requests stored by an older version still match.
    req = PayRequest("m_sg", "plain", 10_000, "SGD", card_id="card_visa")
    old_body = req.fingerprint_body()
    assert "description" not in old_body and "metadata" not in old_body
    with seeded.tenant_session(T) as s:
        row = s.scalar(select(Payment).where(Payment.request_id == "plain"))
        assert row is not None and row.fingerprint == fingerprint(old_body)
        assert row.description is None and row.metadata_ is None


def test_notes_are_part_of_the_idempotency_fingerprint(seeded: Database) -> None:
    api = api_for(seeded)
    first = create(api, "n-2", description=NOTE, metadata=META)
    again = create(api, "n-2", description=NOTE, metadata=META)
    assert again.status_code == 200 and again.json() == first.json()
    other = create(api, "n-2", description="another note", metadata=META)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert payments_count(seeded) == 1


# ----- refused notes -----------------------------------------------------------------------

REFUSED = [
    ({"description": "x" * 501}, "description_too_long", "description"),
    ({"metadata": {f"k{i}": "v" for i in range(21)}}, "metadata_too_many_keys", "metadata"),
    ({"metadata": {"note": "v" * 501}}, "metadata_value_too_long", "metadata.note"),
    ({"metadata": {"k" * 41: "v"}}, "invalid_metadata_key", "metadata." + "k" * 41),
    ({"metadata": {"": "v"}}, "invalid_metadata_key", "metadata."),
    # Notes are shown to people and agents as they are: never a card number.
    (
        {"description": "card 4111 1111 1111 1111 exp 12/31"},
        "sensitive_data_in_notes",
        "description",
    ),
    ({"metadata": {"pan": "4111111111111111"}}, "sensitive_data_in_notes", "metadata.pan"),
]

WRONG_TYPE = [
    ({"description": 42}, "description"),
    ({"description": ["a", "b"]}, "description"),
    ({"metadata": ["order", "1182"]}, "metadata"),
    ({"metadata": "order=1182"}, "metadata"),
    ({"metadata": {"qty": 2}}, "metadata.qty"),
    ({"metadata": {"nested": {"a": "b"}}}, "metadata.nested"),
]


@pytest.mark.parametrize(("extra", "code", "param"), REFUSED)
def test_notes_breaking_a_rule_are_refused_before_anything_is_written(
    seeded: Database, extra: dict[str, Any], code: str, param: str
) -> None:
    r = create(api_for(seeded), "bad-1", **extra)
    assert r.status_code == 422, r.text
    body = r.json()
    assert {k: body[k] for k in ("type", "code", "param")} == {
        "type": "invalid_request_error",
        "code": code,
        "param": param,
    }
    assert body["message"]
    assert payments_count(seeded) == 0


@pytest.mark.parametrize(("extra", "param"), WRONG_TYPE)
def test_wrong_type_notes_are_refused_with_the_field_named(
    seeded: Database, extra: dict[str, Any], param: str
) -> None:
    r = create(api_for(seeded), "bad-2", **extra)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["type"] == "invalid_request_error" and body["code"] == "validation_failed"
    assert body["param"] == param and body["message"].startswith(param)
    assert payments_count(seeded) == 0


@pytest.mark.parametrize(
    ("description", "metadata", "code"),
    [
        ("x" * 501, None, "description_too_long"),
        (7, None, "invalid_description"),
        (None, ["a"], "invalid_metadata"),
        (None, {"k": 1}, "invalid_metadata_value"),
        (None, {f"k{i}": "v" for i in range(21)}, "metadata_too_many_keys"),
    ],
)
def test_the_gateway_applies_the_same_rules_to_every_caller(
    gw: Gateway, description: Any, metadata: Any, code: str
) -> None:
    req = PayRequest(
        "m_sg", "g-1", 5_000, "SGD", card_id="card_visa", description=description, metadata=metadata
    )
    with pytest.raises(ValidationFailed) as err:
        gw.pay(T, req)
    assert err.value.code == code
    assert payments_count(gw.db) == 0


# ----- migration ---------------------------------------------------------------------------


def test_revision_payments_0002_adds_and_removes_the_note_columns(any_db: Database) -> None:
    from importlib import import_module

    mod = import_module("tools.payments.migrations.versions.payments_0002_payment_notes")
    assert (mod.revision, mod.down_revision, mod.branch_labels) == (
        "payments_0002",
        "payments_0001",
        None,
    )
    db = any_db
    seed_basic(db)
    Gateway(db, simulator=AlwaysApprove()).pay(
        T, PayRequest("m_sg", "m-1", 5_000, "SGD", card_id="card_visa", description=NOTE)
    )
    cfg = core_migrate.alembic_config(db)
    core_versions = Path(core_migrate.__file__).parent / "migrations" / "versions"
    cfg.set_main_option("version_locations", f"{core_versions} {PAYMENTS_VERSIONS}")

    def columns() -> set[str]:
        with db.engine.connect() as conn:
            return {c["name"] for c in inspect(conn).get_columns("pay_payments")}

    assert {"description", "metadata"} <= columns()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "payments_0001")
    assert not {"description", "metadata"} & columns()
    assert payments_count(db) == 1  # the rows survive the table rebuild
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
    assert {"description", "metadata"} <= columns()


# ----- dispute monitoring tool ---------------------------------------------------------------


def _disputed_world(gw: Gateway) -> None:
    """Visa and Mastercard sales over the last weeks, a few of them disputed."""
    now = utcnow()
    ids: list[str] = []
    for k in range(12):
        card = "card_visa" if k % 3 else "card_mc"
        r = gw.pay(
            T,
            PayRequest("m_sg", f"mon-{k}", 4_000 + k, "SGD", card_id=card),
            at=now - timedelta(days=20 - k),
        )
        ids.append(str(r["paymentId"]))
    disputes = Disputes(gw)
    for k in (1, 2, 3):  # two Visa sales and one Mastercard sale
        disputes.open(T, ids[k], "13.1" if k % 3 else "4837", at=now - timedelta(days=2))


def test_monitoring_tool_reports_the_analytics_ratios(gw: Gateway) -> None:
    _disputed_world(gw)
    default_args = DisputeMonitoringArgs()
    assert default_args.days == 30
    out = monitoring_tool(tool_ctx(gw.db), default_args)
    end = utcnow()
    with gw.db.tenant_session(T) as s:
        expected = analytics.dispute_monitoring(
            s, merchant_id="m_sg", start=end - timedelta(days=30), end=end
        )
    got = {(p["programme"], p["disputes"], p["sales"], p["ratio"]) for p in out["programmes"]}
    want = {(p["programme"], p["disputes"], p["sales"], p["ratio"]) for p in expected["programmes"]}
    assert got == want
    visa = next(p for p in out["programmes"] if p["programme"] == "VAMP")
    assert (visa["disputes"], visa["sales"]) == (2, 8)
    assert visa["ratioPercent"] == "25.00%" and visa["ratioThresholdPercent"] == "1.50%"
    assert visa["flagged"] is False  # far above 1.5%, but VAMP also needs > 1,500 disputes
    assert out["flagged"] == [] and out["days"] == 30 and out["merchantId"] == "m_sg"


def test_monitoring_tool_is_scoped_to_the_callers_merchant(gw: Gateway) -> None:
    assert default_registry.get("payments_dispute_monitoring").kind is ToolKind.READ
    own = monitoring_tool(tool_ctx(gw.db), DisputeMonitoringArgs(merchant_id="m_sg", days=7))
    assert own["merchantId"] == "m_sg" and own["days"] == 7
    with pytest.raises(NotFound) as other:
        monitoring_tool(tool_ctx(gw.db), DisputeMonitoringArgs(merchant_id="m_pending"))
    assert other.value.code == "merchant_not_found"
    admin = tool_ctx(gw.db, merchant=None, role=Role.ADMIN)
    assert monitoring_tool(admin, DisputeMonitoringArgs(merchant_id="m_pending"))["merchantId"] == (
        "m_pending"
    )
    with pytest.raises(NotFound) as unknown:
        monitoring_tool(admin, DisputeMonitoringArgs(merchant_id="m_nowhere"))
    assert unknown.value.code == "merchant_not_found"
    with pytest.raises(ToolError) as missing:
        monitoring_tool(admin, DisputeMonitoringArgs())
    assert missing.value.code == "merchant_required"
