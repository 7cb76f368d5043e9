"""Chat in the browser: a refund over the threshold stops at an approval card; approve or reject.

The Singapore merchant's key asks the copilot for a 120 SGD refund on one of its captured
payments. The streamed tool call and the approval card (amount in major units, currency,
approval id) appear inline; approving resumes the run and the answer says SUCCESS, and the
refund exists exactly once. A second conversation is rejected with a reason: nothing moves,
and the reason is on record. With an OpenAI-compatible model (a local server streaming word by
word) the answer shows while the model is still writing it, in one bubble per reply.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from cockpit.app import create_app
from cockpit.config import Settings
from cockpit.models import resolve_model
from cockpit.testing import FakeReply, fake_openai_server
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
from tests.support.live import served
from tests.support.spinekit import AGENTS_DIR


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
    click(browser, "chat-new")
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
    click(browser, "chat-new")
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
    click(browser, "chat-new")
    assert wait_for(browser, "chat-input").is_enabled()
    assert by_testid(browser, "error") == []


# ---- token streaming: an OpenAI-compatible model ------------------------------------------------

STREAMED = "All set: the payout went out and nothing else changed today."


@dataclass
class Streaming:
    url: str
    key: str
    hold: threading.Event


def _respond(hold: threading.Event) -> Any:
    """The model: a payout call for "pay …", else an answer that waits after its first word
    until the test has seen that word in the page."""

    def respond(body: dict[str, Any]) -> FakeReply:
        last = body["messages"][-1]
        if last["role"] == "tool":
            return FakeReply(content=STREAMED)
        if str(last.get("content") or "").startswith("pay "):
            args = {"amount": 25000, "currency": "USD", "payee": "acme"}
            return FakeReply(tool_calls=[{"name": "spine_payout", "arguments": args}])
        return FakeReply(content=STREAMED, hold=hold, hold_s=30.0)

    return respond


@pytest.fixture(scope="module")
def streaming(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Streaming]:
    """The spine agent on ``openai:stream-model`` (a local OpenAI-compatible server that
    streams word by word), served by uvicorn on 127.0.0.1 with the console."""
    hold = threading.Event()
    saved = {k: os.environ.get(k) for k in ("OPENAI_BASE_URL", "OPENAI_API_KEY")}
    with fake_openai_server({}, responders={"stream-model": _respond(hold)}) as openai:
        os.environ["OPENAI_BASE_URL"] = openai.base_url
        os.environ.pop("OPENAI_API_KEY", None)

        def factory(spec: Any, schemas: list[dict[str, Any]]) -> Any:
            return resolve_model("openai:stream-model", timeout_s=30.0).bind_tools(schemas)

        data = tmp_path_factory.mktemp("chat-streaming") / "data"
        settings = Settings(
            data_dir=data,
            agents_path=[AGENTS_DIR],
            tool_modules=["tests.support.spinekit"],
            warmup=False,
        )
        app = create_app(settings, model_factory=factory)
        try:
            with served(app) as url:
                key = tenant_key(url, data, "tokens")
                yield Streaming(url, key, hold)
        finally:
            hold.set()
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def tenant_key(url: str, data: Path, tenant: str, role: str = "admin") -> str:
    """A new key of ``tenant`` (created if needed), minted with the platform admin key."""
    admin = {"x-api-key": (data / "admin.key").read_text().strip()}
    r = httpx.post(f"{url}/v1/tenants", json={"tenant_id": tenant}, headers=admin)
    assert r.status_code in (200, 201), r.text
    r = httpx.post(f"{url}/v1/keys", json={"role": role, "tenant_id": tenant}, headers=admin)
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def test_tokens_render_as_they_stream_and_approvals_work_the_same(
    browser: Any, streaming: Streaming
) -> None:
    browser.console_url = streaming.url
    streaming.hold.clear()
    signin(browser, streaming.key)
    open_page(browser, "chat")
    picker = wait_for(browser, "chat-assistant")
    wait_until(browser, lambda d: picker.find_elements(By.CSS_SELECTOR, 'option[value="spine"]'))
    Select(picker).select_by_value("spine")
    say(browser, "how are things?")

    # The model holds after its first word: the page shows it while the reply is unfinished.
    bubble = wait_until(
        browser,
        lambda d: next((m for m in by_testid(d, "msg-ai") if m.text.strip()), None),
        message="no streamed text before the model finished",
    )
    partial = bubble.find_element(By.CSS_SELECTOR, '[data-testid="msg-text"]').text
    assert partial and partial != STREAMED and STREAMED.startswith(partial.strip())
    assert "streaming" in (bubble.get_attribute("class") or "")
    streaming.hold.set()
    wait_until(
        browser, lambda d: bubble.text.endswith(STREAMED), message="the reply never finished"
    )
    # One reply, one bubble: every chunk landed in the bubble of its message id.
    assert len([m for m in by_testid(browser, "msg-ai") if m.text.strip()]) == 1
    wait_until(browser, lambda d: "streaming" not in (bubble.get_attribute("class") or ""))

    # A tool call streamed in pieces shows once, whole; its approval card works as with the
    # local planner.
    say(browser, "pay 250 USD to acme")
    card = approval_card(browser)
    assert (
        "250.00 USD" in card.find_element(By.CSS_SELECTOR, '[data-testid="approval-amount"]').text
    )
    (call,) = browser.find_elements(By.CSS_SELECTOR, '[data-testid="tool-call"]')
    assert call.get_attribute("data-tool") == "spine_payout" and "25000" in call.text
    card.find_element(By.CSS_SELECTOR, '[data-testid="approve"]').click()
    wait_until(browser, lambda d: card.get_attribute("data-status") == "approved")
    wait_until(
        browser,
        lambda d: sum(STREAMED in m.text for m in by_testid(d, "msg-ai")) == 2,
        message="no answer after the approval",
    )
    assert call.get_attribute("data-status") == "ok"

    # Edited in major units before it runs: the call runs with the new amount, and says so.
    say(browser, "pay 250 USD to acme")
    wait_until(browser, lambda d: len(by_testid(d, "approval-card")) == 2)
    second = by_testid(browser, "approval-card")[-1]
    second.find_element(By.CSS_SELECTOR, '[data-testid="edit"]').click()
    amount = second.find_element(By.CSS_SELECTOR, '[data-testid="edit-amount"]')
    assert amount.get_attribute("value") == "250.00"
    amount.clear()
    amount.send_keys("200")
    second.find_element(By.CSS_SELECTOR, '[data-testid="edit-submit"]').click()
    wait_until(browser, lambda d: second.get_attribute("data-status") == "edited")
    edited = wait_for(browser, "tool-edited")
    assert '"amount":20000' in edited.text
    wait_until(browser, lambda d: sum(STREAMED in m.text for m in by_testid(d, "msg-ai")) == 3)
