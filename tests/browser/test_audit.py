"""The audit page: the chain newest first, verified with the audit key, exported."""

from __future__ import annotations

from typing import Any

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


def test_the_chain_verifies_and_filters(browser: Any, console: Console) -> None:
    console.partner_key()  # minting a key is an audited act: the chain is not empty
    with console.http() as c:
        head = c.get("/v1/audit/head").raise_for_status().json()
    assert head["seq"] > 0

    signin(browser, console.key("demo"))
    open_page(browser, "audit")
    wait_for(browser, "audit-table")
    rows = by_testid(browser, "audit-row")
    assert rows, "the newest records are listed"
    newest = int(rows[0].find_element("css selector", "td").text)
    assert newest >= head["seq"]

    click(browser, "audit-verify")
    verdict = wait_until(
        browser,
        lambda d: (v := by_testid(d, "audit-verdict")) and v[0],
        message="no verdict",
    )
    assert verdict.get_attribute("data-ok") == "true"
    with console.http() as c:
        assert c.get("/v1/audit/verify").json()["ok"] is True
    assert "records verified" in verdict.text
    shot(browser, "audit")

    kind = rows[0].find_elements("css selector", "td")[2].text
    wait_for(browser, "audit-kind").send_keys(kind)
    click(browser, "audit-filter")
    wait_until(
        browser,
        lambda d: (
            all(
                r.find_elements("css selector", "td")[2].text == kind
                for r in by_testid(d, "audit-row")
            )
            and by_testid(d, "audit-row")
        ),
        message="the filter did not narrow the list",
    )
