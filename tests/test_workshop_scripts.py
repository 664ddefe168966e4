"""The scripts the labs hand out: the load generator and the 20-line subscriber."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.peers.broker import Broker
from tests.peers.net import wait_until
from tests.test_gauge import Publisher

SUBSCRIBER = Path(__file__).resolve().parents[1] / "workshop" / "subscriber.py"


def test_load_generator_burns_the_share_it_is_asked_for() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.load", "--cpu", "0.5", "--memory-mb", "20", "--seconds", "2"],
        stderr=subprocess.PIPE,
        text=True,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    cpu_s = usage.ru_utime + usage.ru_stime
    assert 0.6 <= cpu_s <= 1.6, f"{cpu_s:.2f} s of CPU for half a core over 2 s"
    assert usage.ru_maxrss >= 20 * 1024  # KiB: the 20 MiB is really held


def test_load_generator_stops_on_sigterm_and_checks_flags() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.load", "--cpu", "0.1"], stderr=subprocess.PIPE, text=True
    )
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=5) == 0
    bad = subprocess.run(
        [sys.executable, "-m", "agent.load", "--cpu", "1.5"], capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "swarmgauge-load: error: --cpu: must be from 0 to 1 (got '1.5')"


def test_subscriber_prints_each_node(broker: Broker, tmp_path: Path) -> None:
    nodes = Publisher(broker)
    out = tmp_path / "out.txt"
    with out.open("w") as f:
        sub = subprocess.Popen(
            [sys.executable, str(SUBSCRIBER), broker.host, str(broker.port)], stdout=f
        )
    try:
        nodes.state("pi-1", 0.42)
        nodes.state("pi-2", 0.9)
        assert wait_until(lambda: len(out.read_text().splitlines()) >= 2, 10), out.read_text()
        assert sorted(out.read_text().splitlines()) == [
            "pi-1: strain 42%, 1 tasks",
            "pi-2: strain 90%, 1 tasks",
        ]
    finally:
        sub.terminate()
        sub.wait(timeout=5)
        nodes.close()


def test_armhf_build_without_buildx_says_what_it_can_do() -> None:
    """Debian's docker.io has no buildx: a multi-platform build is refused with one line
    that says the classic-builder route (the single-platform build itself is the
    arm/v6 image test's)."""
    if subprocess.run(["docker", "buildx", "version"], capture_output=True).returncode == 0:
        pytest.skip("this docker has buildx")
    build = Path(__file__).resolve().parents[1] / "armhf" / "build"
    result = subprocess.run([str(build)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "no docker buildx" in result.stderr and "--load --platforms" in result.stderr
