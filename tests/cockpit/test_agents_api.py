"""The agent-lifecycle API the console's builder uses: validate, the tool catalogue, references
checked with a "did you mean", alias history and rollback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from cockpit.errors import ValidationFailed
from cockpit.specs import SpecRegistry, load_builtin_specs
from cockpit.toolkit import default_registry
from tests.support.apptest import Api, running_app
from tests.support.cli import cockpit_in_process, cockpit_process

AGENT = "shop-helper"


def _spec(name: str = "Helper", **changes: Any) -> dict[str, Any]:
    return {
        "id": AGENT,
        "name": name,
        "description": "A partner agent that writes notes for shoppers.",
        "instructions": f"You are {name}.",
        "model": "fake:spine",
        "tools": [{"name": "spine_note"}],
        **changes,
    }


@dataclass
class Keys:
    api: Api
    admin: str
    partner: str
    merchant: str
    other: str
    """A partner of another tenant."""

    def call(
        self, key: str, method: str, path: str, *, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        sent = {**self.api.h(key), **(headers or {})}
        return self.api.client.request(method, path, headers=sent, **kw)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    with running_app(tmp_path_factory.mktemp("agents-api")) as api:
        admin = api.tenant("acme")
        made = {}
        for role in ("partner", "merchant"):
            r = api.client.post("/v1/keys", json={"role": role}, headers=api.h(admin))
            assert r.status_code == 201, r.text
            made[role] = r.json()["key"]
        yield Keys(api, admin, made["partner"], made["merchant"], api.tenant("globex", "partner"))


def test_validate_lists_every_error_with_did_you_mean(keys: Keys) -> None:
    bad = _spec(
        description="short",
        tools=[
            {"name": "spine_note"},
            {"name": "spine_payout", "approval": {"above": {"USD": 100}}},
            {"name": "spine_nte"},
            {"name": "spine_note", "approval": {"always": True}},
        ],
        handoffs=["spin", "nobody-at-all"],
        knowledge=["cockpit-doc"],
    )
    r = keys.call(keys.partner, "POST", "/v1/agents/validate", json=bad)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["valid"] is False
    errors = {e["param"]: e for e in body["errors"]}
    assert errors["description"]["code"] == "invalid_spec"
    assert errors["tools.2.name"]["code"] == "unknown_tool"
    assert "did you mean 'spine_note'?" in errors["tools.2.name"]["message"]
    assert errors["tools.3.name"]["message"] == "'spine_note' is listed twice"
    assert errors["handoffs.0"]["code"] == "unknown_agent"
    assert "did you mean 'spine'?" in errors["handoffs.0"]["message"]
    assert "did you mean" not in errors["handoffs.1"]["message"]
    assert errors["knowledge.0"]["code"] == "unknown_collection"
    assert "did you mean 'cockpit-docs'?" in errors["knowledge.0"]["message"]
    # Nothing was stored.
    assert keys.call(keys.partner, "GET", f"/v1/agents/{AGENT}/versions").status_code == 404
    # YAML that does not parse is an answer too, with where it broke.
    r = keys.call(
        keys.partner,
        "POST",
        "/v1/agents/validate",
        content="id: x\ntools: [unclosed\n",
        headers={"content-type": "application/yaml"},
    )
    assert r.status_code == 200, r.text
    (error,) = r.json()["errors"]
    assert error["param"] == "spec" and "line 3" in error["message"], error


def test_validate_normalises_yaml_and_stores_nothing(keys: Keys) -> None:
    text = yaml.safe_dump(_spec(id="yaml-only", knowledge=["cockpit-docs"], handoffs=["spine"]))
    r = keys.call(
        keys.partner,
        "POST",
        "/v1/agents/validate",
        content=text,
        headers={"content-type": "application/yaml"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["valid"] is True and "errors" not in body
    assert body["spec"]["guardrails"]["max_tool_calls_per_turn"] == 8  # defaults filled in
    assert yaml.safe_load(body["yaml"]) == body["spec"]
    created = keys.call(
        keys.partner,
        "POST",
        "/v1/agents",
        content=text,
        headers={"content-type": "application/yaml"},
    )
    assert created.status_code == 201, created.text
    got = keys.call(keys.partner, "GET", "/v1/agents/yaml-only@v1").json()
    assert got["spec"] == body["spec"]
    # The hash is the one the eval gate judges.
    runs_hash = keys.call(keys.partner, "GET", "/v1/agents/yaml-only/versions").json()[0]["hash"]
    assert runs_hash == body["content_hash"]


def test_create_refuses_unknown_references_naming_the_field(keys: Keys) -> None:
    cases = [
        (
            _spec(tools=[{"name": "spine_note"}, {"name": "spine_payot"}]),
            "tools.1.name",
            "spine_payout",
        ),
        (_spec(handoffs=["spinee"]), "handoffs.0", "spine"),
        (_spec(knowledge=["cockpit-dcs"]), "knowledge.0", "cockpit-docs"),
    ]
    for body, param, suggestion in cases:
        r = keys.call(keys.partner, "POST", "/v1/agents", json=body)
        assert r.status_code == 422, r.text
        err = r.json()
        assert err["param"] == param
        assert f"did you mean '{suggestion}'?" in err["message"]
        assert err["details"]["errors"][0]["param"] == param
    # Another tenant's agent is no handoff target here.
    r = keys.call(keys.other, "POST", "/v1/agents", json=_spec(id="globex-bot"))
    assert r.status_code == 201, r.text
    r = keys.call(
        keys.partner, "POST", "/v1/agents", json=_spec(id="acme-x", handoffs=["globex-bot"])
    )
    assert r.status_code == 422 and r.json()["param"] == "handoffs.0"
    # Merchants may not validate or create (partner work).
    assert keys.call(keys.merchant, "POST", "/v1/agents/validate", json=_spec()).status_code == 403


def test_tools_catalogue_follows_the_key(keys: Keys) -> None:
    r = keys.call(keys.partner, "GET", "/v1/tools")
    assert r.status_code == 200, r.text
    partner = {t["name"]: t for t in r.json()}
    note = partner["spine_note"]
    assert note["kind"] == "READ" and note["policy_fields"] == ["rate_limit"]
    assert note["amount_field"] is None and note["parameters"]["type"] == "object"
    assert note["description"]
    payout = {t["name"]: t for t in keys.call(keys.admin, "GET", "/v1/tools").json()}[
        "spine_payout"
    ]
    assert payout["kind"] == "WRITE" and payout["amount_field"] == "amount"
    assert payout["policy_fields"] == ["max_amount", "approval", "rate_limit"]
    # The whole catalogue for every staff key (a partner designs agents merchants run), each
    # tool saying whether this key may have it run; ?runnable=true keeps only those.
    merchant = {t["name"]: t for t in keys.call(keys.merchant, "GET", "/v1/tools").json()}
    assert set(merchant) == set(partner)
    for name in partner:
        assert merchant[name]["may_run"] is ("merchant" in merchant[name]["roles"]), name
        assert partner[name]["may_run"] is ("partner" in partner[name]["roles"]), name
    assert merchant["spine_payout"]["may_run"] and not partner["spine_payout"]["may_run"]
    runnable = keys.call(keys.partner, "GET", "/v1/tools", params={"runnable": "true"}).json()
    assert {t["name"] for t in runnable} == {n for n, t in partner.items() if t["may_run"]}
    assert "spine_payout" not in {t["name"] for t in runnable}


def test_alias_history_and_rollback(keys: Keys) -> None:
    agent = "roll-me"
    for name in ("One", "Two", "Three"):
        r = keys.call(keys.partner, "POST", "/v1/agents", json=_spec(name, id=agent))
        assert r.status_code == 201, r.text
    path = f"/v1/agents/{agent}/aliases"
    # v1 went live on creation: nothing earlier to roll back to.
    r = keys.call(keys.partner, "POST", f"{path}/live/rollback")
    assert r.status_code == 409 and r.json()["code"] == "nothing_to_roll_back"
    for version in (2, 3):
        r = keys.call(keys.partner, "PUT", f"{path}/live", json={"version": version})
        assert r.status_code == 200, r.text
    assert keys.call(keys.partner, "PUT", f"{path}/canary", json={"version": 3}).status_code == 200
    aliases = keys.call(keys.merchant, "GET", path).json()  # a read: staff may
    assert aliases["live"]["version"] == 3 and aliases["canary"]["version"] == 3
    history = aliases["live"]["history"]
    assert [(h["version"], h["previous"], h["kind"]) for h in history] == [
        (3, 2, "set"),
        (2, 1, "set"),
        (1, None, "created"),
    ]
    assert history[0]["gate"]["decision"] == "ungated" and history[0]["by"]
    assert history[0]["at"].startswith("2026-11-25")

    # Roll back twice: 3 -> 2 -> 1, walking the history (not flipping between two).
    r = keys.call(keys.partner, "POST", f"{path}/live/rollback", json={"reason": "bad answers"})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["gate"]["decision"] == "rollback"
    assert r.json()["gate"]["admitted_by"]["decision"] == "ungated"
    assert keys.call(keys.partner, "GET", f"/assistants/{agent}").json()["name"] == "Two"
    r = keys.call(keys.partner, "POST", f"{path}/live/rollback")
    assert r.status_code == 200 and r.json()["version"] == 1
    r = keys.call(keys.partner, "POST", f"{path}/live/rollback")
    assert r.status_code == 409 and r.json()["code"] == "nothing_to_roll_back"
    history = keys.call(keys.partner, "GET", path).json()["live"]["history"]
    assert history[1]["kind"] == "rollback" and history[1]["reason"] == "bad answers"
    assert [h["undone"] for h in history if h["kind"] == "set"] == [True, True]
    # canary has its own history; a new move after rollbacks is undone first.
    r = keys.call(keys.partner, "POST", f"{path}/canary/rollback")
    assert r.status_code == 409  # canary was created pointing at 3
    # Who may: partners and admins; merchants 403; another tenant 404/409 on nothing.
    assert keys.call(keys.merchant, "POST", f"{path}/live/rollback").status_code == 403
    assert keys.call(keys.other, "GET", path).status_code == 404
    assert keys.call(keys.partner, "POST", f"{path}/prod/rollback").status_code == 422
    audit = keys.call(
        keys.admin, "GET", "/v1/audit", params={"kind": "agent_alias_rolled_back"}
    ).json()
    records = audit["records"] if isinstance(audit, dict) else audit
    assert [r["payload"]["version"] for r in records][-2:] == [2, 1]


def test_server_start_names_the_file_and_field(tmp_path: Path) -> None:
    import tests.support.spinekit  # noqa: F401  (registers the test tools)

    folder = tmp_path / "agents" / "typo"
    folder.mkdir(parents=True)
    (folder / "agent.yaml").write_text(
        yaml.safe_dump(_spec(id="typo", tools=[{"name": "spine_nota"}], handoffs=["typo2"]))
    )
    builtin = load_builtin_specs([tmp_path / "agents"])
    with pytest.raises(ValidationFailed) as err:
        SpecRegistry(None, default_registry, builtin)  # type: ignore[arg-type]  # no db needed
    exc = err.value
    assert exc.param == "tools.0.name" and exc.code == "unknown_tool"
    assert exc.details["file"] == str(folder / "agent.yaml")
    assert exc.message.startswith(f"{folder / 'agent.yaml'}: tools.0.name: unknown tool")
    assert "did you mean 'spine_note'?" in exc.message
    assert [e["param"] for e in exc.details["errors"]] == ["tools.0.name", "handoffs.0"]


def test_cli_rollback(tmp_path: Path) -> None:
    # The steps run in process (their subject is the alias history); the refused rollback keeps
    # the real child process: its exit code and one-line stderr are what a user sees.
    spec = tmp_path / "agent.yaml"
    for name in ("First", "Second"):
        spec.write_text(yaml.safe_dump(_spec(name, id="cli-roll", tools=[], model="local:planner")))
        done = cockpit_in_process(tmp_path, "agents", "submit", str(spec), "--tenant", "acme")
        assert done.returncode == 0, done.stderr
    done = cockpit_in_process(
        tmp_path, "agents", "alias", "cli-roll", "live", "2", "--tenant", "acme"
    )
    assert done.returncode == 0, done.stderr
    done = cockpit_in_process(
        tmp_path, "agents", "rollback", "cli-roll", "live", "--tenant", "acme"
    )
    assert done.returncode == 0 and "cli-roll@live -> v1 (was v2)" in done.stdout, done.stderr
    assert "First" in cockpit_in_process(tmp_path, "agents", "list", "--tenant", "acme").stdout
    again = cockpit_process(tmp_path, "agents", "rollback", "cli-roll", "live", "--tenant", "acme")
    assert again.returncode != 0 and "nothing_to_roll_back" in again.stderr
    assert "Traceback" not in again.stderr


def test_unpublished_agents_are_listed_only_when_asked(keys: Keys) -> None:
    gated = _spec(id="gated-draft", evals=["no-such-suite-yet"])
    assert keys.call(keys.partner, "POST", "/v1/agents", json=gated).status_code == 201
    runnable = {a["assistant_id"] for a in keys.call(keys.partner, "GET", "/v1/agents").json()}
    assert "gated-draft" not in runnable  # gated: not live until its suite passes
    listed = keys.call(keys.partner, "GET", "/v1/agents", params={"unpublished": "true"}).json()
    draft = next(a for a in listed if a["assistant_id"] == "gated-draft")
    assert draft["live"] is False and draft["version"] == 1
    assert all(a["live"] for a in listed if a["assistant_id"] != "gated-draft")
