"""The approvals inbox in the browser: a pending refund is listed, filtered in and out, decided
with an edit (amount typed in major units), and shown in the history with who decided it."""

from __future__ import annotations

from typing import Any

from selenium.webdriver.common.by import By

from tests.browser.conftest import (
    Console,
    by_testid,
    open_page,
    shot,
    signin,
    wait_for,
    wait_until,
)
from tests.browser.test_chat import refundable_payments, refunds_of


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
    wait_for(driver, "filter-apply").click()
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
    wait_for(browser, "filter-reset").click()
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
    wait_for(browser, "tab-decided").click()
    done = row(browser, apr)
    assert done.get_attribute("data-status") == "edited"
    decision = done.find_element(By.CSS_SELECTOR, '[data-testid="row-decision"]').text
    with console.http(key) as c:
        me = c.get("/v1/me").raise_for_status().json()
    assert "edited" in decision and f"ck_{me['key_id']}" in decision
    assert "partial refund" in decision and "10050" in decision
