"""The approvals inbox in the browser: a pending refund is listed, filtered in and out, decided
with an edit (amount typed in major units), and shown in the history with who decided it; under
four eyes the requesting key sees why it may not decide, and another key decides."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml
from selenium.webdriver.common.by import By

from cockpit.app import create_app
from cockpit.config import Settings
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
from tests.browser.test_chat import refundable_payments, refunds_of, tenant_key
from tests.support.live import served
from tests.support.spinekit import AGENTS_DIR, rule_model_factory


def pending_refund(console: Console, key: str, pid: str, text: str) -> str:
    """A copilot run that stops at an approval (through the API); its approval id."""
    with console.http(key) as c:
        tid = c.post("/threads", json={}).raise_for_status().json()["thread_id"]
        r = c.post(
            f"/threads/{tid}/runs/wait",
            json={
                "assistant_id": "copilot",
                "input": {"messages": [{"role": "user", "content": text.format(pid=pid)}]},
            },
        )
        r.raise_for_status()
    (interrupt,) = r.json()["__interrupt__"]
    return str(interrupt["value"]["approval_id"])


def row(driver: Any, approval_id: str) -> Any:
    return wait_until(
        driver,
        lambda d: d.find_element(
            By.CSS_SELECTOR, f'[data-testid="approval-row"][data-approval-id="{approval_id}"]'
        ),
        message=f"{approval_id} is not listed",
    )


def listed(driver: Any) -> set[str]:
    wait_until(driver, lambda d: by_testid(d, "approvals-table") or by_testid(d, "approvals-empty"))
    return {r.get_attribute("data-approval-id") for r in by_testid(driver, "approval-row")}


def apply_filters(driver: Any, *, reload: bool = True, **values: str) -> None:
    for name in ("currency", "min", "max", "older_h", "agent"):
        box = wait_for(driver, f"filter-{name}")
        box.clear()
        if values.get(name):
            box.send_keys(values[name])
    # Wait for the new answer: the list is replaced (its old table goes stale).
    old = by_testid(driver, "approvals-list")[0].find_elements(By.CSS_SELECTOR, "table, p")
    click(driver, "filter-apply")
    if old and reload:
        wait_until(driver, lambda d: _stale(old[0]), message="the list did not reload")


def _stale(element: Any) -> bool:
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    return False


def test_inbox_filters_decides_and_keeps_history(browser: Any, console: Console) -> None:
    key = console.merchant_key("sg")
    pid = refundable_payments(console, key, min_minor=20_000)[1]
    apr = pending_refund(console, key, pid, "refund 130 SGD on {pid}")
    signin(browser, key)
    open_page(browser, "approvals")

    listed_row = row(browser, apr)
    assert (
        "130.00 SGD" in listed_row.find_element(By.CSS_SELECTOR, '[data-testid="row-amount"]').text
    )
    assert "payments_refund" in listed_row.text and "copilot" in listed_row.text
    shot(browser, "approvals")

    # Filters: amounts in major units of one currency, agent, age.
    apply_filters(browser, currency="SGD", min="100", max="200")
    assert apr in listed(browser)
    apply_filters(browser, currency="SGD", min="130.01")
    assert apr not in listed(browser)
    apply_filters(browser, currency="SGD", max="130.00")
    assert apr in listed(browser)
    apply_filters(browser, agent="dispute")
    assert apr not in listed(browser)
    apply_filters(browser, older_h="5")
    assert apr not in listed(browser)
    # An amount without its currency is refused in the page, naming the field.
    apply_filters(browser, reload=False, min="10")
    assert wait_for(browser, "error").get_attribute("data-code") == "currency_required"
    click(browser, "filter-reset")
    row(browser, apr).click()

    # Decide from the card: approve a smaller amount, typed in major units.
    card = wait_until(
        browser,
        lambda d: d.find_element(
            By.CSS_SELECTOR, f'[data-testid="approval-card"][data-approval-id="{apr}"]'
        ),
    )
    assert (
        "Refund 130.00 SGD"
        in card.find_element(By.CSS_SELECTOR, '[data-testid="approval-what"]').text
    )
    card.find_element(By.CSS_SELECTOR, '[data-testid="edit"]').click()
    amount = card.find_element(By.CSS_SELECTOR, '[data-testid="edit-amount"]')
    assert amount.get_attribute("value") == "130.00"
    amount.clear()
    amount.send_keys("100.005")  # more decimals than SGD has: refused in the form
    card.find_element(By.CSS_SELECTOR, '[data-testid="edit-submit"]').click()
    assert "2 decimals" in card.find_element(By.CSS_SELECTOR, ".field.invalid").text
    amount.clear()
    amount.send_keys("100.50")
    card.find_element(By.CSS_SELECTOR, '[data-testid="edit-reason"]').send_keys("partial refund")
    card.find_element(By.CSS_SELECTOR, '[data-testid="edit-submit"]').click()
    wait_until(browser, lambda d: card.get_attribute("data-status") == "edited")
    (refund,) = refunds_of(console, key, pid)
    assert refund["refundAmount"] == {"currency": "SGD", "value": "10050"}

    # Gone from the pending list, in the history with who decided what.
    wait_until(browser, lambda d: apr not in listed(d), message="still listed as pending")
    click(browser, "tab-decided")
    done = row(browser, apr)
    assert done.get_attribute("data-status") == "edited"
    decision = done.find_element(By.CSS_SELECTOR, '[data-testid="row-decision"]').text
    with console.http(key) as c:
        me = c.get("/v1/me").raise_for_status().json()
    assert "edited" in decision and f"ck_{me['key_id']}" in decision
    assert "partial refund" in decision and "10050" in decision


# ---- four eyes: the requester cannot decide, another key can -----------------------------------


@dataclass
class FourEyes:
    url: str
    requester: str
    other: str


@pytest.fixture(scope="module")
def four_eyes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FourEyes]:
    """An agent whose payouts need a second key, on the rule-scripted test model."""
    tmp = tmp_path_factory.mktemp("four-eyes")
    spec = {
        "id": "desk-four",
        "name": "Payout desk (four eyes)",
        "description": "Test agent whose every payout needs another key's approval.",
        "instructions": "Send the payouts you are asked for.",
        "model": "fake:desk",
        "tools": [{"name": "spine_payout", "approval": {"always": True, "four_eyes": True}}],
    }
    (tmp / "agents" / "desk-four").mkdir(parents=True)
    (tmp / "agents" / "desk-four" / "agent.yaml").write_text(yaml.safe_dump(spec))
    data = tmp / "data"
    settings = Settings(
        data_dir=data,
        agents_path=[AGENTS_DIR, tmp / "agents"],
        tool_modules=["tests.support.spinekit"],
        warmup=False,
    )
    with served(create_app(settings, model_factory=rule_model_factory())) as url:
        yield FourEyes(url, tenant_key(url, data, "fours"), tenant_key(url, data, "fours"))


def test_four_eyes_the_requester_sees_why_another_key_decides(
    browser: Any, four_eyes: FourEyes
) -> None:
    browser.console_url = four_eyes.url
    with httpx.Client(base_url=four_eyes.url, headers={"x-api-key": four_eyes.requester}) as c:
        tid = c.post("/threads", json={}).raise_for_status().json()["thread_id"]
        body = {
            "assistant_id": "desk-four",
            "input": {"messages": [{"role": "user", "content": "pay 75.00 USD to kim"}]},
        }
        r = c.post(f"/threads/{tid}/runs/wait", json=body).raise_for_status().json()
    apr = r["__interrupt__"][0]["value"]["approval_id"]

    signin(browser, four_eyes.requester)
    open_page(browser, "approvals")
    mine = row(browser, apr)
    assert mine.find_elements(By.CSS_SELECTOR, '[data-testid="four-eyes"]')
    assert not mine.find_element(By.CSS_SELECTOR, '[data-testid="row-approve"]').is_enabled()
    why = mine.find_element(By.CSS_SELECTOR, '[data-testid="row-blocked"]')
    assert why.get_attribute("data-code") == "four_eyes_required" and "four eyes" in why.text
    # The chat shows the same card with the same refusal when the conversation is reopened.
    browser.get(f"{four_eyes.url}/console/#/chat/{tid}")
    card = wait_for(browser, "approval-card")
    wait_until(browser, lambda d: card.find_elements(By.CSS_SELECTOR, '[data-testid="four-eyes"]'))
    assert not card.find_element(By.CSS_SELECTOR, '[data-testid="approve"]').is_enabled()
    blocked = card.find_element(By.CSS_SELECTOR, '[data-testid="approval-blocked"]')
    assert blocked.get_attribute("data-code") == "four_eyes_required"

    click(browser, "signout")
    signin(browser, four_eyes.other)
    open_page(browser, "approvals")
    theirs = row(browser, apr)
    assert theirs.find_element(By.CSS_SELECTOR, '[data-testid="row-approve"]').is_enabled()
    assert theirs.find_elements(By.CSS_SELECTOR, '[data-testid="row-blocked"]') == []
    theirs.find_element(By.CSS_SELECTOR, '[data-testid="row-approve"]').click()
    wait_until(browser, lambda d: apr not in listed(d), message="still pending after approval")
    click(browser, "tab-decided")
    assert row(browser, apr).get_attribute("data-status") == "approved"
