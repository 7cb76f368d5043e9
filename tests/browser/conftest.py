"""The console in a real browser: Debian's chromium, driven by selenium through chromedriver.

One Cockpit server (the product itself, ``cockpit serve`` on the demo world with the local
planner, clock pinned like every test) serves all browser tests of a session; the evals'
default world, seeded once per run, is in its template cache. Each test gets a
fresh headless browser. Screenshots go to ``.cockpit/ci/screenshots/`` (CI keeps them), and to
``docs/console/`` — the README's pictures — when ``COCKPIT_UPDATE_SCREENSHOTS=1``.

Without chromium the tests skip with the reason; in CI (``CI`` set) they fail instead: CI
installs chromium and chromium-driver (``.ci/run``).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit.tls import client_context
from tests.support import shared
from tests.support.live import ROOT, LiveServer

CHROMIUM = os.environ.get("COCKPIT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("COCKPIT_CHROMEDRIVER", "/usr/bin/chromedriver")
SHOTS = ROOT / ".cockpit" / "ci" / "screenshots"
README_SHOTS = ROOT / "docs" / "console"
WAIT_S = 60.0
POLL_S = 0.05
"""How often a wait looks again. Selenium's default, 0.5 s, left each wait up to half a second
behind the page (~0.25 s on average, over a few hundred waits)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """One worker runs every browser test, so they share one console server."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.xdist_group("browser"))


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session", autouse=True)
def _chromium_present() -> None:
    missing = _browser_missing()
    if missing and os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {missing}")
    if missing:
        pytest.skip(f"browser tests skipped: {missing}")


@dataclass
class Console:
    """The server under test and keys for each role the console serves."""

    server: LiveServer
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def key(self, name: str = "demo") -> str:
        return self.server.key(name)

    def http(self, key: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"x-api-key": key or self.key()},
            timeout=120.0,
            verify=client_context(),
        )

    def merchant_id(self, market: str) -> str:
        with self.http() as c:
            merchants = c.get("/v1/payments/merchants").raise_for_status().json()
        items = merchants["data"] if isinstance(merchants, dict) else merchants
        for m in items:
            if str(m["merchantId"]).endswith(f"_{market}"):
                return str(m["merchantId"])
        raise LookupError(f"no demo merchant for market {market!r}")

    def _mint(self, name: str, body: dict[str, Any]) -> str:
        if name not in self.keys:
            with self.http() as c:
                self.keys[name] = c.post("/v1/keys", json=body).raise_for_status().json()["key"]
        return self.keys[name]

    def merchant_key(self, market: str = "sg") -> str:
        """A merchant key bound to the demo merchant of that market."""
        return self._mint(
            f"merchant-{market}",
            {"role": "merchant", "merchant_id": self.merchant_id(market), "name": f"{market} ops"},
        )

    def partner_key(self) -> str:
        return self._mint("partner", {"role": "partner", "name": "partner console"})

    def shopper_key(self, market: str = "sg") -> str:
        return self._mint(
            f"shopper-{market}",
            {"role": "shopper", "merchant_id": self.merchant_id(market), "name": "agent platform"},
        )


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    data = tmp_path_factory.mktemp("console")
    # The evals' default world, seeded once per run, in the server's template cache: the
    # builder's gate runs copy it instead of seeding their own (the same seed and clock).
    world = shared.eval_world(tmp_path_factory)
    shutil.copytree(world, data / "evals" / world.name)
    server = LiveServer(
        data,
        module="cockpit",
        extra_env={
            # The product as a user runs it: the local planner on offline MiniLM embeddings,
            # the demo world warmed up before the first page loads.
            "COCKPIT_EMBEDDINGS": "minilm",
            "COCKPIT_WARMUP": "true",
            "COCKPIT_LOG_JSON": "true",
        },
    )
    server.start(timeout=300.0)
    _wait_for_demo_world(server)
    try:
        yield Console(server)
    finally:
        server.stop()


def _wait_for_demo_world(server: LiveServer, timeout: float = 300.0) -> None:
    """The demo world is seeded in the background after start; pages need all of it."""
    log = server.data_dir / "server.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        if "payments demo world seeded" in text or "payments demo world already" in text:
            return
        if "demo world could not be seeded" in text:
            raise RuntimeError(f"the demo world failed to seed: {text[-3000:]}")
        time.sleep(0.1)
    raise RuntimeError("the demo world was not seeded in time")


@pytest.fixture
def browser(console: Console) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
        "--force-device-scale-factor=1",
        "--lang=en-GB",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(WAIT_S)
    driver.console_url = console.url  # where signin() opens the console
    try:
        yield driver
        errors = script_errors(driver)
        assert errors == [], f"the console logged script errors: {errors}"
    finally:
        driver.quit()


def script_errors(driver: Any) -> list[str]:
    """SEVERE console messages that are our scripts failing (not answers the API gave)."""
    out = []
    for entry in driver.get_log("browser"):
        message = str(entry.get("message", ""))
        if entry.get("level") != "SEVERE" or "Failed to load resource" in message:
            continue
        out.append(message)
    return out


def wait_for(driver: Any, testid: str, *, timeout: float = WAIT_S, visible: bool = True) -> Any:
    """The element with ``data-testid=testid``, once present (and visible)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    locator = (By.CSS_SELECTOR, f'[data-testid="{testid}"]')
    condition = ec.visibility_of_element_located if visible else ec.presence_of_element_located
    return WebDriverWait(driver, timeout, poll_frequency=POLL_S).until(condition(locator))


def wait_until(driver: Any, predicate: Any, *, timeout: float = WAIT_S, message: str = "") -> Any:
    """``predicate(driver)``, once truthy. A poll that reads an element the page re-renders
    under it (a list refreshed after a decision) meets a stale element: it polls again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(
        driver,
        timeout,
        poll_frequency=POLL_S,
        ignored_exceptions=(StaleElementReferenceException,),
    )
    return wait.until(predicate, message)


def click(driver: Any, testid: str, *, timeout: float = WAIT_S) -> None:
    """Click the element with ``data-testid=testid`` once it is visible. A page that re-renders
    between finding the element and clicking it leaves a stale reference, and the click never
    reached the page: find the element again and click that."""

    def clicked(d: Any) -> bool:
        shown = [el for el in by_testid(d, testid) if el.is_displayed()]
        if not shown:
            return False
        d.execute_script("arguments[0].scrollIntoView({block: 'center'});", shown[0])
        shown[0].click()
        return True

    wait_until(driver, clicked, timeout=timeout, message=f"could not click {testid!r}")


def by_testid(driver: Any, testid: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, f'[data-testid="{testid}"]'))


def signin(driver: Any, key: str) -> None:
    """Open the console and sign in with ``key``; returns once the menu shows the role."""
    driver.get(f"{driver.console_url}/console/")
    box = wait_for(driver, "signin-key")
    box.clear()
    box.send_keys(key)
    click(driver, "signin-submit")
    wait_for(driver, "who-role")


def open_page(driver: Any, name: str) -> Any:
    """Click the menu entry of a page; returns the page's root section."""
    from selenium.webdriver.common.by import By

    click(driver, f"nav-{name}")
    return wait_until(
        driver,
        lambda d: d.find_element(By.CSS_SELECTOR, f'section[data-page="{name}"]'),
        message=f"page {name} did not open",
    )


def shot(driver: Any, name: str) -> Path:
    """Save a screenshot of the whole page as ``<name>.png`` (CI artefact, README picture)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    target = SHOTS / f"{name}.png"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    chrome = driver.execute_script("return window.outerHeight - window.innerHeight")
    driver.set_window_size(1400, max(1000, min(int(height) + int(chrome), 2600)))
    driver.save_screenshot(str(target))
    driver.set_window_size(1400, 1000)
    if os.environ.get("COCKPIT_UPDATE_SCREENSHOTS") == "1":
        README_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, README_SHOTS / f"{name}.png")
    return target
