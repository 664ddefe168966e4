"""The live page in headless Chromium (Debian's chromium and chromium-driver)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.peers.broker import Broker
from tests.test_gauge import Publisher, api_until, start_gauge

ARTIFACTS = Path(__file__).parent / "artifacts"
REQUIRE = os.environ.get("SWARMGAUGE_REQUIRE_BROWSER") == "1"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        reason = "needs Debian's chromium and chromium-driver (tests/run installs them)"
        if REQUIRE:
            pytest.fail(f"SWARMGAUGE_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=900,700",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def rows(driver: Any) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, "#nodes tr.node")


def test_page_renders_and_updates_without_reload(broker: Broker, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    nodes = Publisher(broker)
    app = start_gauge(broker)
    try:
        for name, strain in (("pi-1", 0.2), ("pi-2", 0.4), ("pi-3", 0.9)):
            nodes.state(name, strain)
        api_until(app, lambda c: len(c["nodes"]) == 3)
        assert app.web is not None
        browser.get(app.web.url)
        browser.execute_script("window.loadedOnce = 'yes'")
        wait = WebDriverWait(browser, 15)
        wait.until(lambda d: len(rows(d)) == 3)
        assert browser.find_element(By.ID, "dial").is_displayed()
        assert browser.find_element(By.ID, "value").text == "50%"
        for row in rows(browser):
            assert len(row.find_elements(By.CSS_SELECTOR, ".led")) == 8
        needle = browser.find_element(By.ID, "needle").get_attribute("transform")
        assert needle == "rotate(0 100 100)"
        tasks = browser.find_element(By.ID, "tasks").text  # no leader's agent: unknown, not 0
        assert tasks == "tasks unknown: no cluster state from a Swarm leader's agent yet"

        nodes.state("pi-4", 1.0)  # (0.2 + 0.4 + 0.9 + 1.0) / 4 = 0.625
        wait.until(lambda d: len(rows(d)) == 4)
        wait.until(lambda d: d.find_element(By.ID, "value").text == "63%")
        assert browser.execute_script("return window.loadedOnce") == "yes"  # no reload
        assert rows(browser)[3].get_attribute("data-node") == "pi-4"
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "gauge.png"))
        assert (ARTIFACTS / "gauge.png").stat().st_size > 1000

        for name in ("pi-1", "pi-2", "pi-3", "pi-4"):  # all gone: strain unknown, needle holds
            nodes.send(f"swarmgauge/node/{name}/availability", b"offline")
        wait.until(lambda d: d.find_element(By.ID, "value").text == "unknown")
        # the needle holds the last strain shown: all four (0.625), or, where the page saw
        # an aggregate between two of the offline messages, what the rest made; never 0
        last_known = [(0.2 + 0.4 + 0.9 + 1.0) / 4, (0.4 + 0.9 + 1.0) / 3, (0.9 + 1.0) / 2, 1.0]
        held = {f"rotate({-90 + 180 * round(s, 3):g} 100 100)" for s in last_known}
        assert browser.find_element(By.ID, "needle").get_attribute("transform") in held
        assert "offline" in rows(browser)[0].text
    finally:
        app.close()
        nodes.close()
