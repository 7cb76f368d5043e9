"""Chat in the browser: a refund over the threshold stops at an approval card; approve or reject.

The Singapore merchant's key asks the copilot for a 120 SGD refund on one of its captured
payments. The streamed tool call and the approval card (amount in major units, currency,
approval id) appear inline; approving resumes the run and the answer says SUCCESS, and the
refund exists exactly once. A second conversation is rejected with a reason: nothing moves,
and the reason is on record.
"""

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


def refundable_payments(console: Console, key: str, *, min_minor: int) -> list[str]:
    """Captured, unrefunded, undisputed card payments of the key's merchant."""
    with console.http(key) as c:
        rows = c.get(
            "/v1/payments/payments",
            params={"state": "CAPTURED", "method_type": "CARD", "days": 90, "limit": 200},
        )
        rows.raise_for_status()
        found = []
        for row in rows.json()["data"]:
            if row["refundedAmount"]["value"] != "0":
                continue
            if int(row["paymentAmount"]["value"]) < min_minor:
                continue
            view = c.get(f"/v1/payments/payments/{row['paymentId']}").raise_for_status().json()
            if not view.get("disputed") and not view.get("refunds"):
                found.append(str(row["paymentId"]))
    assert found, "the demo world has no refundable payment"
    return found


def refunds_of(console: Console, key: str, pid: str) -> list[dict[str, Any]]:
    with console.http(key) as c:
        view = c.get(f"/v1/payments/payments/{pid}").raise_for_status().json()
    return list(view.get("refunds") or [])


def say(driver: Any, text: str) -> None:
    """Send a message once the page knows its assistant (Send is disabled until then)."""
    box = wait_for(driver, "chat-input")
    box.clear()
    box.send_keys(text)
    send = wait_until(driver, lambda d: (b := wait_for(d, "chat-send")).is_enabled() and b)
    send.click()


def approval_card(driver: Any) -> Any:
    card = wait_for(driver, "approval-card")
    wait_until(
        driver,
        lambda d: card.find_element(By.CSS_SELECTOR, '[data-testid="approval-id"]').text,
        message="the approval card shows no approval id",
    )
    return card


def answers(driver: Any) -> list[str]:
    return [m.text for m in by_testid(driver, "msg-ai")]


def test_a_refund_over_the_threshold_is_approved_inline(browser: Any, console: Console) -> None:
    key = console.merchant_key("sg")
    pid = refundable_payments(console, key, min_minor=20_000)[0]
    signin(browser, key)
    open_page(browser, "chat")
    wait_until(browser, lambda d: wait_for(d, "chat-assistant").get_attribute("value"))
    say(browser, f"refund 120 SGD on {pid}")

    call = wait_until(
        browser,
        lambda d: d.find_element(
            By.CSS_SELECTOR, '[data-testid="tool-call"][data-tool="payments_refund"]'
        ),
        message="no streamed payments_refund call",
    )
    assert '"amount": 12000' in call.text or '"amount":12000' in call.text
    card = approval_card(browser)
    amount = card.find_element(By.CSS_SELECTOR, '[data-testid="approval-amount"]').text
    assert "120.00" in amount and "SGD" in amount
    what = card.find_element(By.CSS_SELECTOR, '[data-testid="approval-what"]').text
    assert "Refund 120.00 SGD" in what and pid in what
    approval_id = card.find_element(By.CSS_SELECTOR, '[data-testid="approval-id"]').text
    assert approval_id.startswith("apr_")
    assert card.find_element(By.CSS_SELECTOR, '[data-testid="approval-tool"]').text == (
        "payments_refund"
    )
    assert refunds_of(console, key, pid) == []  # nothing moves while a human decides
    shot(browser, "chat")

    card.find_element(By.CSS_SELECTOR, '[data-testid="approve"]').click()
    wait_until(
        browser,
        lambda d: card.get_attribute("data-status") == "approved",
        message="the card was not marked approved",
    )
    wait_until(
        browser,
        lambda d: any("SUCCESS" in a for a in answers(d)),
        message="the resumed run gave no SUCCESS answer",
    )
    final = [a for a in answers(browser) if "SUCCESS" in a][-1]
    assert "120.00 SGD" in final and pid in final
    (refund,) = refunds_of(console, key, pid)
    assert refund["refundAmount"] == {"currency": "SGD", "value": "12000"}
    result = wait_for(browser, "tool-result")
    assert "done" in result.text
    # The approval is on record as approved by this key.
    with console.http(key) as c:
        rec = c.get(f"/v1/approvals/{approval_id}").raise_for_status().json()
    assert rec["status"] == "approved"


def test_a_rejected_refund_moves_nothing_and_keeps_the_reason(
    browser: Any, console: Console
) -> None:
    key = console.merchant_key("sg")
    pid = refundable_payments(console, key, min_minor=20_000)[-1]
    signin(browser, key)
    open_page(browser, "chat")
    wait_for(browser, "chat-new").click()
    say(browser, f"refund 150 SGD on {pid}")
    card = approval_card(browser)
    assert (
        "150.00 SGD" in card.find_element(By.CSS_SELECTOR, '[data-testid="approval-amount"]').text
    )
    approval_id = card.find_element(By.CSS_SELECTOR, '[data-testid="approval-id"]').text

    card.find_element(By.CSS_SELECTOR, '[data-testid="reject"]').click()
    # A rejection needs a reason: an empty one is refused in the form.
    card.find_element(By.CSS_SELECTOR, '[data-testid="reject-submit"]').click()
    assert card.get_attribute("data-status") == "pending"
    card.find_element(By.CSS_SELECTOR, '[data-testid="reject-reason"]').send_keys(
        "the shopper already got a voucher"
    )
    card.find_element(By.CSS_SELECTOR, '[data-testid="reject-submit"]').click()
    wait_until(browser, lambda d: card.get_attribute("data-status") == "rejected")
    wait_until(
        browser,
        lambda d: any("not approved" in a for a in answers(d)),
        message="the resumed run did not say the refund was not approved",
    )
    call = browser.find_element(
        By.CSS_SELECTOR, '[data-testid="tool-call"][data-tool="payments_refund"]'
    )
    wait_until(browser, lambda d: call.get_attribute("data-status") == "rejected")
    assert refunds_of(console, key, pid) == []
    with console.http(key) as c:
        rec = c.get(f"/v1/approvals/{approval_id}").raise_for_status().json()
    assert rec["status"] == "rejected" and rec["reason"] == "the shopper already got a voucher"

    # The conversation is in the side panel; reopening it renders it from the thread's state.
    thread_id = browser.execute_script("return decodeURIComponent(location.hash.split('/')[2])")
    wait_for(browser, "chat-new").click()
    assert by_testid(browser, "msg-user") == []
    item = wait_until(
        browser,
        lambda d: d.find_element(
            By.CSS_SELECTOR, f'[data-testid="thread-item"][data-thread-id="{thread_id}"]'
        ),
        message="the conversation is not in the side panel",
    )
    item.click()
    wait_until(browser, lambda d: any(pid in m.text for m in by_testid(d, "msg-user")))
    wait_until(browser, lambda d: any("not approved" in a for a in answers(d)))
    assert by_testid(browser, "approval-card") == []  # decided: nothing waits any more


def test_an_unknown_conversation_is_an_error_box_not_a_blank_page(
    browser: Any, console: Console
) -> None:
    signin(browser, console.merchant_key("sg"))
    browser.get(f"{console.url}/console/#/chat/00000000-0000-4000-8000-000000000000")
    error = wait_for(browser, "error")
    assert error.get_attribute("data-code") == "thread_not_found", error.text
    # The page stays usable: a new conversation can start right away.
    wait_for(browser, "chat-new").click()
    assert wait_for(browser, "chat-input").is_enabled()
    assert by_testid(browser, "error") == []
