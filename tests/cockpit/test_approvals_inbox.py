"""The approvals inbox (``GET /v1/approvals``): filters, history, scoping and who may decide.

Runs on SQLite and PostgreSQL. One tenant with two merchants; approvals asked at known instants (a fixed clock moved between
them) by merchant keys and an admin, through an agent that asks for every payout and one that
demands four eyes. Filters must select exactly the expected rows; bad filters are a 422 naming
the parameter; a merchant key never sees another merchant's approval whatever it asks for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from cockpit import clock
from cockpit.tenancy.principal import Role
from tests.support.apptest import Api, running_app
from tests.support.merchants import add_merchant
from tests.support.spinekit import AGENTS_DIR

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass
class Inbox:
    api: Api
    keys: dict[str, str]
    key_ids: dict[str, str]
    apr: dict[str, str]
    """Approval ids by label: small_a, eur_b, four_eyes, huge_a (decided)."""

    def list(self, who: str, **params: Any) -> list[dict[str, Any]]:
        r = self.api.client.get("/v1/approvals", params=params, headers=self.api.h(self.keys[who]))
        assert r.status_code == 200, r.text
        return list(r.json())

    def labels(self, who: str, **params: Any) -> set[str]:
        by_id = {v: k for k, v in self.apr.items()}
        return {
            by_id.get(row["approval_id"], row["approval_id"]) for row in self.list(who, **params)
        }


def _agents(folder: Path) -> Path:
    base = {
        "description": "Test agent whose every payout waits for a human (approvals inbox).",
        "instructions": "Send the payouts you are asked for.",
        "model": "fake:desk",
    }
    desk = {
        **base,
        "id": "desk",
        "name": "Desk",
        "tools": [{"name": "spine_payout", "approval": {"always": True}}],
    }
    four = {
        **base,
        "id": "desk-four",
        "name": "Desk (four eyes)",
        "tools": [{"name": "spine_payout", "approval": {"always": True, "four_eyes": True}}],
    }
    for spec in (desk, four):
        (folder / spec["id"]).mkdir(parents=True)
        (folder / spec["id"] / "agent.yaml").write_text(yaml.safe_dump(spec))
    return folder


def _ask(api: Api, key: str, assistant: str, text: str) -> str:
    h = api.h(key)
    tid = api.client.post("/threads", json={}, headers=h).json()["thread_id"]
    r = api.client.post(
        f"/threads/{tid}/runs/wait",
        headers=h,
        json={
            "assistant_id": assistant,
            "input": {"messages": [{"role": "user", "content": text}]},
        },
    )
    assert r.status_code == 200, r.text
    (apr,) = [i["value"]["approval_id"] for i in r.json()["__interrupt__"]]
    return str(apr)


@pytest.fixture(scope="module")
def inbox(
    module_database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Inbox]:
    # Both backends: the amount filter reads JSON and casts it, which each database spells
    # its own way.
    tmp = tmp_path_factory.mktemp("inbox")
    agents = _agents(tmp / "agents")
    fixed = clock.FixedClock(T0)
    with running_app(tmp, module_database_url, agents_path=[AGENTS_DIR, agents]) as api:
        # After startup: the app installs its own (started) clock from the settings.
        previous = clock.install(fixed)
        try:
            svc = api.client.app.state.services  # type: ignore[attr-defined]
            svc.keys.ensure_tenant("inbox", name="inbox")
            svc.keys.ensure_tenant("elsewhere", name="elsewhere")
            add_merchant(svc.db, "inbox", "mer_a")
            add_merchant(svc.db, "inbox", "mer_b")
            issued = {
                "admin": svc.keys.create_key("inbox", Role.ADMIN),
                "admin2": svc.keys.create_key("inbox", Role.ADMIN),
                "merchant_a": svc.keys.create_key("inbox", Role.MERCHANT, merchant_id="mer_a"),
                "merchant_b": svc.keys.create_key("inbox", Role.MERCHANT, merchant_id="mer_b"),
                "partner": svc.keys.create_key("inbox", Role.PARTNER),
                "other_admin": svc.keys.create_key("elsewhere", Role.ADMIN),
            }
            keys = {k: v.secret for k, v in issued.items()}
            apr = {"small_a": _ask(api, keys["merchant_a"], "desk", "pay 120.00 USD to ann")}
            fixed.advance(hours=1)
            apr["eur_b"] = _ask(api, keys["merchant_b"], "desk", "pay 50.00 EUR to bo")
            fixed.advance(hours=2)
            apr["four_eyes"] = _ask(api, keys["admin"], "desk-four", "pay 900.00 USD to cy")
            fixed.advance(hours=1)
            # 3 billion cents: past a 32-bit integer, so the amount filter must compare BIGINTs.
            apr["huge_a"] = _ask(api, keys["merchant_a"], "desk", "pay 30000000.00 USD to dee")
            fixed.advance(minutes=5)
            r = api.client.post(
                f"/v1/approvals/{apr['huge_a']}/decision",
                json={"action": "reject", "reason": "far too big"},
                headers=api.h(keys["admin"]),
            )
            assert r.status_code == 200, r.text
            yield Inbox(api, keys, {k: v.id for k, v in issued.items()}, apr)
        finally:
            clock.install(previous)


def test_rows_carry_what_the_inbox_shows(inbox: Inbox) -> None:
    (row,) = [r for r in inbox.list("admin") if r["approval_id"] == inbox.apr["small_a"]]
    assert row["amount"] == 12000 and row["currency"] == "USD"
    assert row["merchant_id"] == "mer_a" and row["agent"] == "desk"
    assert row["tool"] == "spine_payout" and row["args"]["payee"] == "ann"
    assert row["requested_by"] == inbox.key_ids["merchant_a"]
    assert row["requested_by_prefix"] == "ck_" + inbox.key_ids["merchant_a"]
    assert row["four_eyes"] is False and row["status"] == "pending"
    assert row["why"] == "every spine_payout call needs approval"
    assert row["amount_field"] == "amount" and row["currency_field"] == "currency"
    # Asked at T0; the clock now reads T0 + 4h05.
    assert row["age_s"] == 4 * 3600 + 5 * 60


def test_pending_is_the_default_and_decided_is_the_history(inbox: Inbox) -> None:
    assert inbox.labels("admin") == {"small_a", "eur_b", "four_eyes"}
    assert inbox.labels("admin", status="all") == {"small_a", "eur_b", "four_eyes", "huge_a"}
    assert inbox.labels("admin", status="rejected") == {"huge_a"}
    assert inbox.labels("admin", status="approved") == set()
    (done,) = inbox.list("admin", status="decided")
    assert done["status"] == "rejected" and done["reason"] == "far too big"
    assert done["decision"]["action"] == "reject"
    assert done["decided_by"] == inbox.key_ids["admin"]
    assert done["decided_by_prefix"] == "ck_" + inbox.key_ids["admin"]
    assert done["decided_at"] == "2026-11-25T16:05:00+00:00"
    assert done["may_decide"] is False and done["blocked"]["code"] == "approval_decided"


def test_filter_by_merchant_and_agent(inbox: Inbox) -> None:
    assert inbox.labels("admin", merchant_id="mer_a") == {"small_a"}
    assert inbox.labels("admin", merchant_id="mer_b") == {"eur_b"}
    assert inbox.labels("admin", merchant_id="mer_a", status="all") == {"small_a", "huge_a"}
    assert inbox.labels("admin", agent="desk-four") == {"four_eyes"}
    assert inbox.labels("admin", agent="desk") == {"small_a", "eur_b"}
    assert inbox.labels("admin", agent="nobody") == set()


def test_filter_by_amount_in_minor_units_of_one_currency(inbox: Inbox) -> None:
    assert inbox.labels("admin", currency="USD") == {"small_a", "four_eyes"}
    assert inbox.labels("admin", currency="eur") == {"eur_b"}
    assert inbox.labels("admin", currency="USD", min_amount=12001) == {"four_eyes"}
    assert inbox.labels("admin", currency="USD", min_amount=12000) == {"small_a", "four_eyes"}
    assert inbox.labels("admin", currency="USD", max_amount=12000) == {"small_a"}
    assert inbox.labels("admin", currency="USD", min_amount=100, max_amount=11999) == set()
    # Amounts above 2**31 minor units compare as numbers, not text and not overflowed.
    huge = inbox.labels("admin", currency="USD", min_amount=2**31, status="all")
    assert huge == {"huge_a"}
    assert inbox.labels("admin", currency="USD", max_amount=90000, status="all") == {
        "small_a",
        "four_eyes",
    }


def test_filter_by_age(inbox: Inbox) -> None:
    # Now: T0 + 4h05. Older than 2h: asked at or before T0 + 2h05.
    assert inbox.labels("admin", older_than_s=2 * 3600) == {"small_a", "eur_b"}
    assert inbox.labels("admin", older_than_s=4 * 3600) == {"small_a"}
    assert inbox.labels("admin", older_than_s=5 * 3600) == set()
    assert inbox.labels("admin", older_than_s=0) == {"small_a", "eur_b", "four_eyes"}


def test_a_merchant_key_sees_only_its_merchant_whatever_it_asks(inbox: Inbox) -> None:
    assert inbox.labels("merchant_a") == {"small_a"}
    assert inbox.labels("merchant_a", status="all") == {"small_a", "huge_a"}
    assert inbox.labels("merchant_a", merchant_id="mer_b", status="all") == set()
    assert inbox.labels("merchant_b", status="all") == {"eur_b"}
    assert inbox.labels("other_admin", status="all") == set()
    r = inbox.api.client.get(
        f"/v1/approvals/{inbox.apr['small_a']}", headers=inbox.api.h(inbox.keys["merchant_b"])
    )
    assert r.status_code == 404 and r.json()["code"] == "approval_not_found"


def test_each_row_says_whether_this_key_may_decide_it(inbox: Inbox) -> None:
    def row(who: str, label: str) -> dict[str, Any]:
        (found,) = [r for r in inbox.list(who) if r["approval_id"] == inbox.apr[label]]
        return found

    mine = row("admin", "four_eyes")
    assert mine["four_eyes"] is True
    assert mine["may_decide"] is False and mine["blocked"]["code"] == "four_eyes_required"
    theirs = row("admin2", "four_eyes")
    assert theirs["may_decide"] is True and theirs["blocked"] is None
    # A partner key reads the inbox but may not move money: the payout tool is for merchants.
    assert row("partner", "small_a")["blocked"]["code"] == "approver_not_allowed"
    assert row("merchant_a", "small_a")["may_decide"] is True
    # What the list says is what the decision route does.
    refused = inbox.api.client.post(
        f"/v1/approvals/{inbox.apr['four_eyes']}/decision",
        json={"action": "approve"},
        headers=inbox.api.h(inbox.keys["admin"]),
    )
    assert refused.status_code == 403 and refused.json()["code"] == "four_eyes_required"


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"min_amount": -1, "currency": "USD"}, "min_amount", "validation_failed"),
        ({"max_amount": "1.5", "currency": "USD"}, "max_amount", "validation_failed"),
        ({"min_amount": 10}, "currency", "currency_required"),
        ({"currency": "XYZ"}, "currency", "unknown_currency"),
        ({"currency": "USD", "min_amount": 10, "max_amount": 5}, "min_amount", "invalid_range"),
        ({"status": "maybe"}, "status", "invalid_value"),
        ({"older_than_s": -5}, "older_than_s", "validation_failed"),
        ({"older_than_s": "soon"}, "older_than_s", "validation_failed"),
        ({"limit": 0}, "limit", "validation_failed"),
    ],
)
def test_bad_filters_are_422_naming_the_parameter(
    inbox: Inbox, params: dict[str, Any], param: str, code: str
) -> None:
    r = inbox.api.client.get(
        "/v1/approvals", params=params, headers=inbox.api.h(inbox.keys["admin"])
    )
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["param"] == param and body["code"] == code
    assert set(body) >= {"type", "code", "message", "param"}
