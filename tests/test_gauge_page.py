"""The live page in headless Chromium (Debian's chromium and chromium-driver), as the
room sees it: a projector (1280×720, 1920×1080) and a phone (400×800). Every state
the room must tell apart is asserted by its visible text; screenshots of each are kept
in tests/artifacts/."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.docker.readings import ClusterNode, ClusterReading, ClusterService
from agent.snapshot import cluster_snapshot
from tests.helpers import validate
from tests.peers.broker import Broker
from tests.test_gauge import Publisher, api_until, node_payload, start_gauge

ARTIFACTS = Path(__file__).parent / "artifacts"
REQUIRE = os.environ.get("SWARMGAUGE_REQUIRE_BROWSER") == "1"
SIZES = [(1280, 720), (1920, 1080), (400, 800)]


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
        "--window-size=1920,1080",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def viewport(driver: Any, width: int, height: int) -> None:
    """Exactly this many CSS pixels, as a projector or a phone shows them."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 700},
    )


def text(driver: Any, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    element = driver.find_element(By.ID, element_id)
    return element.text if element.is_displayed() else ""  # type: ignore[no-any-return]


def shot(driver: Any, name: str, size: tuple[int, int]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"page-{name}-{size[0]}x{size[1]}.png"
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 1000


def cluster_state() -> bytes:
    """pi-1 leads: a load service one task short (starting), and the gauge's own."""
    reading = ClusterReading(
        nodes=(
            ClusterNode("id1", "pi-1", "manager", "ready", "active", True, 3, own_tasks=1),
            ClusterNode("id2", "pi-2", "worker", "ready", "active", False, 1),
            ClusterNode("id3", "pi-3", "worker", "ready", "active", False, 1),
        ),
        services=(
            ClusterService("load", "replicated", 4, 3, why="starting"),
            ClusterService("swarmgauge_gauge", "replicated", 1, 1, own=True),
        ),
    )
    state = cluster_snapshot(now=datetime.now(UTC), cluster=reading, capacity=4, publisher="pi-1")
    validate("cluster", state)
    return json.dumps(state).encode()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_room_reads_every_state(broker: Broker, browser: Any, size: tuple[int, int]) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    width, height = size
    nodes = Publisher(broker)
    app = start_gauge(broker)
    try:
        assert app.web is not None
        viewport(browser, width, height)
        browser.get(app.web.url)
        browser.execute_script("window.loadedOnce = 'yes'")
        wait = WebDriverWait(browser, 15)

        # nothing known yet: said so, and no number, no needle
        wait.until(lambda d: text(d, "headline") == "waiting for the first node…")
        assert text(browser, "value") == "…" and "%" not in text(browser, "gauge")
        assert not browser.find_element("id", "needle").is_displayed()
        shot(browser, "waiting", size)

        nodes.send("swarmgauge/node/pi-1/state", node_payload("pi-1", 0.2, leader=True))
        nodes.state("pi-2", 0.4)
        nodes.state("pi-3", 0.9)
        nodes.send("swarmgauge/node/pi-1/cluster", cluster_state())
        api_until(app, lambda c: len(c["nodes"]) == 3 and c["desired"] == 5)
        # (0.2 + 0.4 + 0.9) / 3 = 0.5; the workload: 3 of 4 (the gauge's own said apart)
        wait.until(lambda d: text(d, "value") == "50%")
        wait.until(lambda d: text(d, "tasks") == "3 of 4 tasks running")
        assert text(browser, "own") == "and the gauge's own: 1 of 1"
        assert text(browser, "banner") == ""  # nothing to shout about
        assert text(browser, "short") == "load: 3 of 4 running starting"
        assert browser.find_element("id", "needle").get_attribute("transform") == (
            "rotate(0 100 100)"
        )
        layout = browser.execute_script(
            """
            const rect = (e) => e.getBoundingClientRect();
            return {
              dial: rect(document.getElementById("dial")),
              value: rect(document.getElementById("value")),
              tasks: parseFloat(getComputedStyle(document.getElementById("tasks")).fontSize),
              overflow: document.documentElement.scrollWidth - window.innerWidth,
              below: document.documentElement.scrollHeight - window.innerHeight,
              ledRows: [...document.querySelectorAll(".node .leds")].map(
                (leds) => new Set([...leds.children].map((led) => rect(led).top)).size),
              leds: [...document.querySelectorAll(".node .leds")].map((l) => l.children.length),
            };
            """
        )
        assert layout["overflow"] <= 0, "the page scrolls sideways"
        assert layout["leds"] == [8, 8, 8] and layout["ledRows"] == [1, 1, 1], "LEDs wrap"
        if width > height:  # a projector: the dial fills the height, the numbers read far
            assert layout["below"] <= 0, "a projector's page must not scroll"
            assert layout["dial"]["height"] >= 0.6 * height
            assert layout["value"]["height"] >= 0.08 * height
            assert layout["tasks"] >= min(0.05 * height, 64)
        else:  # a phone: one column, the dial its whole width
            assert layout["dial"]["width"] >= 0.9 * width
        shot(browser, "live", size)

        # pi-2 gone: the alarm, as a word, a reason and a page of another colour
        nodes.send("swarmgauge/node/pi-2/availability", b"offline")
        wait.until(lambda d: text(d, "headline") == "ALARM")
        assert "pi-2 offline" in text(browser, "why")
        assert "pi-2 offline" in text(browser, "trouble")
        background = "return getComputedStyle(document.body).backgroundColor"
        wait.until(lambda d: d.execute_script(background) == "rgb(107, 0, 0)")  # after its fade
        below = "return document.documentElement.scrollHeight - window.innerHeight"
        assert width < height or browser.execute_script(below) <= 0, "the alarm scrolls"
        shot(browser, "alarm", size)

        # the broker stops: the gauge hears no node, and says that it is deaf, not that
        # the nodes are gone
        broker.stop()
        wait.until(lambda d: text(d, "headline") == "the gauge cannot reach its MQTT broker")
        assert "ALARM" not in text(browser, "banner")
        shot(browser, "deaf", size)

        # the gauge stops: loud, with when it was last heard, and the old values greyed
        app.close()
        wait.until(lambda d: text(d, "headline").startswith("gauge unreachable"))
        assert re.fullmatch(
            r"gauge unreachable — last seen \d\d:\d\d:\d\d", text(browser, "headline")
        )
        assert "ALARM" not in text(browser, "banner")  # it no longer knows
        main_filter = browser.execute_script(
            "return getComputedStyle(document.querySelector('main')).filter"
        )
        assert "grayscale" in main_filter
        assert browser.execute_script("return window.loadedOnce") == "yes"  # no reload
        shot(browser, "lost", size)
    finally:
        app.close()
        nodes.close()


def test_unknown_strain_holds_the_needle(broker: Broker, browser: Any) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    nodes = Publisher(broker)
    app = start_gauge(broker)
    try:
        for name, strain in (("pi-1", 0.2), ("pi-2", 0.4), ("pi-3", 0.9), ("pi-4", 1.0)):
            nodes.state(name, strain)
        api_until(app, lambda c: len(c["nodes"]) == 4)
        assert app.web is not None
        browser.get(app.web.url)
        wait = WebDriverWait(browser, 15)
        wait.until(lambda d: text(d, "value") == "63%")  # (0.2 + 0.4 + 0.9 + 1.0) / 4
        # no leader's agent: the totals are unknown, not 0
        tasks = text(browser, "tasks")
        assert tasks == "tasks unknown: no cluster state from a Swarm leader's agent yet"
        for name in ("pi-1", "pi-2", "pi-3", "pi-4"):  # all gone: strain unknown, needle holds
            nodes.send(f"swarmgauge/node/{name}/availability", b"offline")
        wait.until(lambda d: text(d, "value") == "unknown")
        # the needle holds the last strain shown: all four (0.625), or, where the page saw
        # an aggregate between two of the offline messages, what the rest made; never 0
        last_known = [(0.2 + 0.4 + 0.9 + 1.0) / 4, (0.4 + 0.9 + 1.0) / 3, (0.9 + 1.0) / 2, 1.0]
        held = {f"rotate({-90 + 180 * round(s, 3):g} 100 100)" for s in last_known}
        assert browser.find_element("id", "needle").get_attribute("transform") in held
        wait.until(lambda d: text(d, "trouble").count("offline") == 4)
    finally:
        app.close()
        nodes.close()


def test_a_refused_live_stream_is_tried_again(broker: Broker, browser: Any) -> None:
    """A browser gives up on an EventSource that got an error status: the page does not
    (here: this address already holds its 4 live pages, so the gauge answers 503)."""
    import socket

    from selenium.webdriver.support.ui import WebDriverWait

    nodes = Publisher(broker)
    app = start_gauge(broker)
    held: list[socket.socket] = []
    try:
        nodes.state("pi-1", 0.3)
        api_until(app, lambda c: len(c["nodes"]) == 1)
        assert app.web is not None
        host, port = app.web.address
        for _ in range(4):
            s = socket.create_connection((host, port))
            s.sendall(f"GET /events HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            assert b"200" in s.recv(200)
            held.append(s)
        browser.get(app.web.url)
        wait = WebDriverWait(browser, 20)
        wait.until(lambda d: browser.execute_script("return events.readyState") == 2)  # CLOSED
        assert text(browser, "value") != "30%"
        for s in held:
            s.close()
        wait.until(lambda d: text(d, "value") == "30%")  # tried again, and heard
        assert text(browser, "banner") == ""
    finally:
        for s in held:
            s.close()
        app.close()
        nodes.close()
