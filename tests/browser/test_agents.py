"""The agent builder in a browser: a partner builds an agent in the form, meets the server's
validation inline, saves it, runs its eval suite, publishes it to ``live`` through the gate and
rolls it back.

The agent is a copy of the built-in copilot (its local planner comes along) gated on a one-task
suite of the partner's own, pasted on the Evals tab: the real eval runner (a child process,
fresh worlds) judges it, as it does in production.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import (
    Console,
    by_testid,
    click,
    open_page,
    shot,
    signin,
    wait_for,
    wait_until,
)

pytestmark = pytest.mark.timeout(1200)  # two gate runs of the real eval runner
AGENT = "acme-helper"
SUITE = """\
# Held-out tasks in this file are never used to add planner examples.
schema: cockpit.eval/v1
suite: acme-status
agent: acme-helper
world: {user: {role: merchant, merchant: sg}}
tasks:
  - id: payment-status
    bind: {pay: {kind: payment, status: CAPTURED, method_type: CARD}}
    user: {turns: ["can you pull up {pay.id} for me?"]}
    gold_actions: [{tool: payments_get_payment, args: {payment_id: "{pay.id}"}}]
    assertions: [{kind: no_writes}]
    communicate: ["{pay.id}"]
"""
RUN_S = 900.0


def _css(driver: Any, selector: str) -> Any:
    return driver.find_element(By.CSS_SELECTOR, selector)


def _type(driver: Any, testid: str, text: str) -> Any:
    box = wait_for(driver, testid)
    box.clear()
    box.send_keys(text)
    return box


def _set_value(driver: Any, testid: str, text: str) -> None:
    """Long multi-line text goes in at once (typing it would take a minute)."""
    box = wait_for(driver, testid)
    driver.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        box,
        text,
    )


def _tool_index(driver: Any, name: str) -> int:
    row = _css(driver, f'[data-testid^="tool-row-"][data-name="{name}"]')
    return int(str(row.get_attribute("data-testid")).rsplit("-", 1)[1])


def _tool_rows(driver: Any) -> list[Any]:
    return list(driver.find_elements(By.CSS_SELECTOR, '[data-testid^="tool-row-"]'))


def _read(driver: Any, testid: str, attribute: str | None = None) -> str | None:
    """An attribute (or the text) of an element read in one step: pages re-render, and a
    reference held across a re-render goes stale."""
    value = driver.execute_script(
        "const e = document.querySelector(arguments[0]);"
        "return e ? (arguments[1] ? e.getAttribute(arguments[1]) : e.textContent) : null;",
        f'[data-testid="{testid}"]',
        attribute,
    )
    return None if value is None else str(value)


def _live_version(driver: Any) -> str | None:
    return _read(driver, "alias-live-version", "data-version")


def test_a_partner_builds_evaluates_publishes_and_rolls_back_an_agent(
    browser: Any, console: Console, tmp_path: Path
) -> None:
    partner = console.partner_key()
    signin(browser, partner)
    open_page(browser, "agents")
    click(browser, "new-agent")
    Select(wait_for(browser, "start-from")).select_by_value("copilot")
    wait_until(
        browser,
        lambda d: (
            d.execute_script(
                "const e = document.querySelector('[data-testid=\"spec-id\"]'); return e && e.value"
            )
            == "copilot-copy"
        ),
        message="the copilot template did not load",
    )
    _type(browser, "spec-id", AGENT)
    _type(browser, "spec-name", "Acme helper")
    # The gate: the partner's own one-task suite instead of the copilot's 114 tasks.
    click(browser, "eval-remove-0")
    click(browser, "eval-add")
    _type(browser, "eval-0-suite", "acme-status")

    # A built-in tool from the picker, with a money limit typed in major units.
    refund = _tool_index(browser, "payments_refund")
    _type(browser, f"tool-{refund}-max-ccy-0", "SGD")
    _type(browser, f"tool-{refund}-max-amount-0", "500")
    assert wait_for(browser, f"tool-{refund}-max-minor-0").text == "= 50000 minor units"
    click(browser, "tool-pick-payments_dispute_details")
    assert _tool_index(browser, "payments_dispute_details") == len(_tool_rows(browser)) - 1

    # A typo'd tool name: the server's answer lands next to that tool, with its did-you-mean.
    _type(browser, "tool-add-name", "payments_list_dispute")
    click(browser, "tool-add")
    typo = _tool_index(browser, "payments_list_dispute")
    click(browser, "validate")
    error = wait_until(
        browser,
        lambda d: _read(d, f"error-tools.{typo}.name"),
        message="no error next to the typo'd tool",
    )
    assert "unknown tool 'payments_list_dispute'" in error
    assert "did you mean 'payments_list_disputes'" in error
    assert "error" in wait_for(browser, "validate-status").text
    click(browser, f"use-suggestion-{typo}")
    click(browser, "validate")
    wait_until(
        browser,
        lambda d: (_read(d, "validate-status") or "").startswith("Valid"),
        message="the fixed spec did not validate",
    )
    assert by_testid(browser, f"error-tools.{typo}.name")[0].text == ""
    shot(browser, "agents")

    # The YAML tab shows the spec the server normalised: minor units, the fixed tool name.
    click(browser, "tab-yaml")
    yaml_text = str(wait_for(browser, "spec-yaml").get_attribute("value"))
    assert "id: acme-helper" in yaml_text and "name: payments_list_disputes" in yaml_text
    assert "SGD: 50000" in yaml_text
    click(browser, "tab-form")
    click(browser, "save")
    head = wait_for(browser, "agent-head")
    assert head.get_attribute("data-agent") == AGENT
    wait_for(browser, "version-1")

    # Published before its suite exists, the agent is kept from live, and the page says why.
    click(browser, "agent-tab-publish")
    click(browser, "publish-live")
    refused = wait_for(browser, "gate-failed", timeout=RUN_S)
    assert "kept v1 from live" in refused.text
    assert "no suite 'acme-status'" in wait_for(browser, "gate-reasons").text
    wait_until(browser, lambda d: _live_version(d) == "", message="live should be unset")

    # Evals: the partner's suite runs on v1 and the report says why it passed.
    click(browser, "agent-tab-evals")
    _set_value(browser, "suite-yaml", SUITE)
    click(browser, "run-evals")
    report = wait_for(browser, "eval-report", timeout=RUN_S)
    assert report.get_attribute("data-status") == "passed", report.text
    score = _css(browser, '[data-testid="eval-score"][data-id="acme-status"]')
    assert "100%" in score.text
    task = _css(browser, '[data-testid="eval-task"][data-id="acme-status/payment-status"]')
    assert "pass" in task.text and "1/1" in task.text
    shot(browser, "agents-report")

    # Publish v1 to live: the gate reuses the passing run of this exact spec.
    click(browser, "agent-tab-publish")
    wait_for(browser, "gate-failed")  # the tab keeps its state
    click(browser, "publish-live")
    ok = wait_for(browser, "publish-ok", timeout=RUN_S)
    assert "gate passed" in ok.text and "reused" in ok.text
    wait_until(browser, lambda d: _live_version(d) == "1", message="live is not v1")
    wait_until(
        browser,
        lambda d: "live" in (_read(d, f"agent-item-{AGENT}") or ""),
        message="the agent list does not show the agent live",
    )

    # v2 (a new description) goes live through a gate run of its own, then is rolled back.
    click(browser, "agent-tab-builder")
    wait_for(browser, "spec-description").send_keys(" Acme's own wording.")
    click(browser, "save")
    wait_for(browser, "version-2")
    click(browser, "agent-tab-publish")
    Select(wait_for(browser, "publish-version")).select_by_value("2")
    click(browser, "publish-live")
    ok = wait_for(browser, "publish-ok", timeout=RUN_S)
    assert "gate passed" in ok.text and "reused" not in ok.text
    wait_until(browser, lambda d: _live_version(d) == "2", message="live is not v2")
    _type(browser, "rollback-reason-live", "wording not approved yet")
    click(browser, "rollback-live")
    assert "rolled back to v1" in wait_for(browser, "rollback-ok").text
    wait_until(browser, lambda d: _live_version(d) == "1", message="live did not roll back")
    history = _read(browser, "alias-live-history") or ""
    shot(browser, "agents-publish")
    assert "rollback" in history and "wording not approved yet" in history

    # Knowledge: a collection of the partner's own, two documents uploaded with progress, then
    # attached to the agent in a new version.
    docs = []
    for name, text in (
        ("refunds.md", "# Refunds\n\nAcme refunds within 30 days, to the original card.\n"),
        ("shipping.txt", "Acme ships to Singapore and Malaysia in two working days.\n"),
    ):
        (tmp_path / name).write_text(text, encoding="utf-8")
        docs.append(str(tmp_path / name))
    click(browser, "agent-tab-knowledge")
    _type(browser, "kn-new-name", "acme-policies")
    _type(browser, "kn-new-desc", "Acme's refund and shipping policies")
    click(browser, "kn-create")
    wait_until(
        browser,
        lambda d: _read(d, "kn-collection", "data-selected") == "acme-policies",
        message="the new collection is not selected",
    )
    wait_for(browser, "kn-files").send_keys("\n".join(docs))
    click(browser, "kn-upload")
    wait_until(
        browser,
        lambda d: (
            d.execute_script(
                "return [...document.querySelectorAll('[data-testid=\"kn-progress\"]')]"
                ".map((e) => e.dataset.done).join(',')"
            )
            == "true,true"
        ),
        message="the uploads did not finish",
    )
    wait_until(
        browser,
        lambda d: all(n in (_read(d, "kn-docs") or "") for n in ("refunds", "shipping")),
        message="the uploaded documents are not listed",
    )
    click(browser, "agent-tab-builder")
    click(browser, "knowledge-acme-policies")
    click(browser, "save")
    wait_for(browser, "version-3")
    with_knowledge = _read(browser, "agent-head", "data-knowledge")
    assert with_knowledge == "acme-policies"
