"""Fixtures: real peers (MQTT broker, dockerd in swarm mode) and agent helpers."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.leftovers import leftovers, new_run
from tests.peers.broker import Broker
from tests.peers.dockerd import Dockerd, DockerdUnavailable
from tests.peers.images import IMAGE_TAG, base_image, build, offline_context

REQUIRE_DOCKER = os.environ.get("SWARMGAUGE_REQUIRE_DOCKER") == "1"
SESSION_STARTED = time.time()
RUN = new_run()  # every process the tests start from here on carries it


@pytest.fixture(scope="session")
def dockerd() -> Iterator[Dockerd]:
    """A dockerd in swarm mode for the whole session, or a skip saying why not.

    With SWARMGAUGE_REQUIRE_DOCKER=1 (CI) the skip becomes a failure.
    """
    daemon = Dockerd()
    try:
        daemon.start()
    except DockerdUnavailable as exc:
        if REQUIRE_DOCKER:
            pytest.fail(f"SWARMGAUGE_REQUIRE_DOCKER=1 but dockerd is unavailable: {exc}")
        pytest.skip(f"dockerd unavailable: {exc}")
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def swarm(dockerd: Dockerd) -> Iterator[Dockerd]:
    """The session's swarm, with every service a test made removed after it."""
    yield dockerd
    dockerd.remove_services()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A fresh broker on a free loopback port, stopped after the test."""
    with Broker(tmp_path) as b:
        yield b


@pytest.fixture(scope="session")
def image(dockerd: Dockerd, tmp_path_factory: pytest.TempPathFactory) -> str:
    """swarmgauge's image from Dockerfile.armhf, built once a session on a local base."""
    base = base_image(dockerd.client)
    context = offline_context(tmp_path_factory.mktemp("image"))
    seconds = build(dockerd.client, IMAGE_TAG, "Dockerfile.armhf", context, {"BASE": base})
    print(f"\nDockerfile.armhf built on {base} in {seconds:.0f} s")
    return IMAGE_TAG


SUMMARIES = {
    "faults.md": "the gauge under faults (tests/test_faults.py)",
    "armv6.md": "the linux/arm/v6 image (tests/test_armv6_image.py)",
}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The fault suite's table and the arm/v6 image's size and build time, where they
    were made in this session."""
    for name, title in SUMMARIES.items():
        found = Path(__file__).resolve().parent / "artifacts" / name
        if found.exists() and found.stat().st_mtime >= SESSION_STARTED:
            terminalreporter.write_sep("=", title)
            terminalreporter.write_line(found.read_text().rstrip())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run, naming them, if processes the tests started are still alive; then
    end them (they are ours: they carry this session's mark, see tests/leftovers.py)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    time.sleep(0.5)  # a process ended just now may still be on its way out
    left = leftovers(RUN, {os.getpid()})
    if not left:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"pid {pid}: {cmd}" for pid, cmd in sorted(left.items())]
    if reporter is not None:
        reporter.write_sep("=", "processes the tests started and left running", red=True)
        for line in lines:
            reporter.write_line(line)
    for pid in left:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
