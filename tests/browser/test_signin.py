"""Signing in: the key decides the menu; a bad key is refused with a reason, not a blank page."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Console, by_testid, click, shot, signin, wait_for


def _menu(driver: Any) -> list[str]:
    return [
        a.get_attribute("data-nav")
        for a in by_testid(driver, "nav")[0].find_elements("css selector", "a")
    ]


def test_a_bad_key_is_refused_with_the_reason(browser: Any, console: Console) -> None:
    browser.get(f"{console.url}/console/")
    wait_for(browser, "signin-key").send_keys("ck_not_a_real_key")
    shot(browser, "signin")
    click(browser, "signin-submit")
    error = wait_for(browser, "error")
    assert "refused" in error.text
    assert by_testid(browser, "who-role") == []


def test_the_menu_follows_the_role(browser: Any, console: Console) -> None:
    signin(browser, console.merchant_key("sg"))
    assert wait_for(browser, "who-role").text == "Merchant"
    merchant_menu = _menu(browser)
    assert "dashboard" in merchant_menu and "chat" in merchant_menu
    # a key bound to one merchant cannot read the tenant's audit chain, so no menu entry
    assert "audit" not in merchant_menu and "agents" not in merchant_menu
    browser.get(f"{console.url}/console/#/audit")
    assert "cannot open" in wait_for(browser, "not-allowed").text

    click(browser, "signout")
    signin(browser, console.partner_key())
    assert wait_for(browser, "who-role").text == "Partner"
    assert {"agents", "audit"} <= set(_menu(browser))

    click(browser, "signout")
    signin(browser, console.shopper_key("sg"))
    assert _menu(browser) == []
    assert "commerce protocols" in wait_for(browser, "not-allowed").text


def test_a_signed_in_tab_survives_a_reload_and_signing_out_forgets_the_key(
    browser: Any, console: Console
) -> None:
    signin(browser, console.key("demo"))
    browser.refresh()
    assert wait_for(browser, "who-role").text == "Tenant admin"
    click(browser, "signout")
    wait_for(browser, "signin-key")
    assert browser.execute_script("return sessionStorage.getItem('cockpit.key')") is None
