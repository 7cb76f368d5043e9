"""The merchant dashboard: every chart renders with the merchant's data, figures match the API,
and one failing panel leaves the rest of the page working."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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

CHARTS = ("success-rate", "declines-by-code", "declines-by-method", "fx-fan")


def chart_points(driver: Any, name: str) -> int:
    """data-points of the chart once it has rendered (0 while absent)."""
    found = driver.find_elements(By.CSS_SELECTOR, f'[data-chart="{name}"]')
    return int(found[0].get_attribute("data-points") or 0) if found else 0


def wait_for_charts(driver: Any, names: tuple[str, ...] = CHARTS) -> dict[str, int]:
    for name in names:
        wait_until(
            driver,
            lambda d, n=name: chart_points(d, n) > 0,
            timeout=180.0,
            message=f"chart {name} did not render with data",
        )
    return {n: chart_points(driver, n) for n in names}


def major(minor: str | int, exponent: int = 2) -> str:
    """Minor units as the console writes them (1,234.50)."""
    value = int(minor) / 10**exponent
    return f"{value:,.{exponent}f}"


def test_merchant_sees_its_business_with_the_api_figures(browser: Any, console: Console) -> None:
    key = console.merchant_key("sg")
    merchant = console.merchant_id("sg")
    signin(browser, key)
    open_page(browser, "dashboard")
    assert by_testid(browser, "dash-merchant") == [], "a merchant key has no merchant picker"
    points = wait_for_charts(browser)
    # Asked right after the page did: the rolling window has moved by a few seconds at most.
    with console.http(key) as api:
        rate30 = api.get("/v1/payments/analytics/success-rate", params={"days": 30}).json()
        series = api.get("/v1/payments/analytics/success-rate/series", params={"days": 30}).json()
        declines = api.get("/v1/payments/analytics/declines", params={"days": 30}).json()["data"]
        disputes = api.get("/v1/payments/disputes", params={"status": "NEEDS_RESPONSE"}).json()
        balances = api.get(f"/v1/payments/balances/{merchant}").json()["balances"]
    assert rate30["attempts"] > 0 and declines, "the sg demo merchant has traffic and declines"
    # Every UTC day of the window is on the axis; the bars are one row per decline code.
    days = [
        r.get_attribute("data-x")
        for r in browser.find_elements(By.CSS_SELECTOR, '[data-chart="success-rate"] rect.hover')
    ]
    assert days == [p["date"] for p in series["data"]]
    assert points["success-rate"] >= sum(1 for p in series["data"] if p["rate"] is not None)
    assert points["declines-by-code"] == len(declines)

    tile = wait_for(browser, "kpi-success-rate")
    assert float(tile.get_attribute("data-value")) == rate30["successRate"]
    assert f"{rate30['successRate'] * 100:.1f}%" in tile.text

    if disputes["count"]:
        wait_for(browser, "disputes-table")
        rows = by_testid(browser, "dispute-row")
        assert len(rows) == disputes["count"]
        first = min(disputes["data"], key=lambda d: d["defenseDueTime"])
        assert rows[0].get_attribute("data-id") == first["disputeId"]
        amount = first["disputeAmount"]
        assert f"{major(amount['value'])} {amount['currency']}" in rows[0].text
    else:
        wait_for(browser, "disputes-empty")
    assert wait_for(browser, "kpi-disputes").get_attribute("data-value") == str(disputes["count"])

    wait_for(browser, "balances-table")
    shown = {r.get_attribute("data-id"): r.text for r in by_testid(browser, "balance-row")}
    assert set(shown) == set(balances)
    sgd = balances["SGD"]
    assert f"{major(sgd['available'])} SGD" in shown["SGD"]

    # The fan: history, then the forecast's median and prediction intervals.
    fan = browser.find_element(By.CSS_SELECTOR, '[data-chart="fx-fan"]')
    assert fan.find_element(By.TAG_NAME, "title").get_attribute("textContent").endswith("forecast")
    assert len(fan.find_elements(By.CSS_SELECTOR, "path.band")) == 2  # 90% and 80%
    assert {r.get_attribute("data-id") for r in by_testid(browser, "fx-row")} <= {"PHP", "MYR"}
    shot(browser, "dashboard")

    volume = wait_for(browser, "kpi-volume")
    sgd_volume = next(v for v in series["approvedVolume"] if v["currency"] == "SGD")
    assert f"{major(sgd_volume['value'])} SGD" in volume.text

    # The other views of the fan: the main currency's daily net volume, then another currency.
    def fan_title(d: Any) -> str:
        found = d.find_elements(By.CSS_SELECTOR, '[data-chart="fx-fan"] > title')
        return str(found[0].get_attribute("textContent")) if found else ""

    main_ccy = fan_title(browser).split("/")[0]
    click(browser, "fx-view-volume")
    wait_until(browser, lambda d: "daily net volume" in fan_title(d), message="no volume fan")
    assert chart_points(browser, "fx-fan") == 60 + 30  # the history asked for, the horizon
    other = next(c for c in ("PHP", "MYR") if c != main_ccy)
    click(browser, f"fx-ccy-{other}")
    click(browser, "fx-view-rate")
    wait_until(
        browser,
        lambda d: fan_title(d).startswith(f"{other}/SGD rate"),
        timeout=120.0,
        message=f"no {other}/SGD rate fan",
    )

    # A longer window: the KPI follows the 90-day figure.
    with console.http(key) as api:
        rate90 = api.get("/v1/payments/analytics/success-rate", params={"days": 90}).json()
    Select(wait_for(browser, "dash-days")).select_by_value("90")
    wait_until(
        browser,
        lambda d: (
            (t := by_testid(d, "kpi-success-rate"))
            and t[0].get_attribute("data-value") == str(rate90["successRate"])
        ),
        message="the KPI did not switch to 90 days",
    )
    wait_for_charts(browser, ("success-rate",))
    assert chart_points(browser, "success-rate") > points["success-rate"]


def test_admin_picks_a_merchant_with_a_dispute_due(browser: Any, console: Console) -> None:
    th = console.merchant_id("th")
    signin(browser, console.key("demo"))
    open_page(browser, "dashboard")
    Select(wait_for(browser, "dash-merchant")).select_by_value(th)
    wait_until(
        browser,
        lambda d: d.current_url.endswith(f"#/dashboard/{th}") and by_testid(d, "balances-table"),
        message="the picked merchant's dashboard did not load",
    )
    wait_for_charts(browser, ("success-rate", "declines-by-code", "declines-by-method"))
    with console.http() as api:
        disputes = api.get(
            "/v1/payments/disputes", params={"merchant_id": th, "status": "NEEDS_RESPONSE"}
        ).json()
        end = api.get(
            "/v1/payments/analytics/success-rate/series", params={"merchant_id": th}
        ).json()["end"]
        balances = api.get(f"/v1/payments/balances/{th}").json()["balances"]
    assert disputes["count"] >= 1, "the th demo merchant has a chargeback to answer"
    wait_for(browser, "disputes-table")
    rows = by_testid(browser, "dispute-row")
    assert [r.get_attribute("data-id") for r in rows] == [
        d["disputeId"] for d in sorted(disputes["data"], key=lambda d: d["defenseDueTime"])
    ]
    first = min(disputes["data"], key=lambda d: d["defenseDueTime"])
    left = (
        datetime.fromisoformat(first["defenseDueTime"]) - datetime.fromisoformat(end)
    ).total_seconds() / 86400
    assert f"{int(left)} d left" in rows[0].text
    assert wait_for(browser, "kpi-deadline").get_attribute("data-value") == first["disputeId"]
    # Bangkok Journeys is paid in baht only: nothing to forecast, said as such (not an error).
    wait_for(browser, "fx-empty")
    shown = {r.get_attribute("data-id"): r.text for r in by_testid(browser, "balance-row")}
    assert set(shown) == set(balances)
    assert f"{major(balances['THB']['available'])} THB" in shown["THB"]


def test_a_failing_panel_stays_in_its_card(browser: Any, console: Console) -> None:
    signin(browser, console.merchant_key("sg"))
    # Every request for disputes fails as if the network were down; the other panels must not care.
    browser.execute_script(
        """
        const real = window.fetch;
        window.fetch = (input, init) => String(input).includes("/v1/payments/disputes")
          ? Promise.reject(new TypeError("Failed to fetch"))
          : real(input, init);
        location.hash = "#/dashboard/again";
        """
    )
    wait_until(
        browser,
        lambda d: d.find_elements(
            By.CSS_SELECTOR, '[data-testid="panel-disputes"] [data-testid="error"]'
        ),
        message="the disputes panel shows no error",
    )
    wait_for_charts(browser)
    assert by_testid(browser, "kpi-success-rate") and by_testid(browser, "balances-table")
    assert browser.find_elements(
        By.CSS_SELECTOR, '[data-testid="kpi-disputes-card"] [data-testid="error"]'
    )


def test_chart_helpers(browser: Any, console: Console) -> None:
    """The pure parts of the charts, run by the browser's own module loader."""
    browser.get(f"{console.url}/console/")
    wait_for(browser, "signin-key")
    out = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        Promise.all([import("/console/static/charts.js"), import("/console/static/pages/dashboard.js")])
          .then(([charts, dash]) => {
            const svg = charts.fanChart({
              name: "t", title: "T", desc: "D",
              history: [{ date: "2026-11-02", value: 1 }, { date: "2026-11-03", value: 2 }],
              forecast: [{ date: "2026-11-04", median: 2, bands: [{ level: 0.8, lo: 1.5, hi: 2.5 }] }],
            });
            done({
              ticks: charts.niceTicks(0.81, 1, 4),
              bands: dash.bandsOf({ date: "x", mean: 5, q5: 1, q10: 2, q50: 5, q90: 8, q95: 9 }),
              trailing: dash.trailing([
                { date: "a", attempts: 2, approved: 1 },
                { date: "b", attempts: 0, approved: 0 },
                { date: "c", attempts: 2, approved: 2 },
              ], 2),
              fitted: charts.fit("USER_BALANCE_NOT_ENOUGH · wallet balance too low", 100),
              fan: [svg.getAttribute("data-chart"), svg.getAttribute("data-points"),
                    svg.querySelector("title").textContent, svg.querySelectorAll("path.band").length],
              empty: charts.lineChart({ name: "e", title: "E", desc: "", series: [] })
                .getAttribute("data-points"),
            });
          })
          .catch((e) => done({ error: String(e) }));
        """
    )
    assert "error" not in out, out
    assert out["ticks"] == [0.8, 0.85, 0.9, 0.95, 1]
    assert out["bands"] == [{"level": 0.9, "lo": 1, "hi": 9}, {"level": 0.8, "lo": 2, "hi": 8}]
    assert [(t["attempts"], t["approved"], t["rate"]) for t in out["trailing"]] == [
        (2, 1, 0.5),
        (2, 1, 0.5),
        (2, 2, 1),
    ]
    assert out["fitted"].endswith("…") and len(out["fitted"]) < 20
    assert out["fan"] == ["t", "3", "T", 1]
    assert out["empty"] == "0"
