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
WORKSHOP = SUBSCRIBER.parent


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


def test_passwords_gives_each_node_its_own_service_and_secret(tmp_path: Path) -> None:
    """workshop/passwords with odd and repeated names: one service and one secret per
    node kept, each secret that node's own password, no name twice; a re-run keeps
    every password and adds the new node's."""
    import yaml

    nodes = "pi-1 pi.3 pi_3 Pi-4 * gauge -x pi:5 pi-1 pi-6.local pi-6_local"
    env = {
        "PATH": os.environ["PATH"],
        "SWARMGAUGE_SECRETS": str(tmp_path),
        "SWARMGAUGE_NODES": nodes,
    }
    made = subprocess.run(["sh", str(WORKSHOP / "passwords")], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert made.returncode == 0, made.stderr
    text = (tmp_path / "agents.yml").read_text()
    stack = yaml.safe_load(text)
    kept = ["pi-1", "pi.3", "Pi-4", "pi-6.local"]
    assert (
        sorted(stack["services"])
        == sorted(stack["secrets"])
        == sorted(f"agent-{n.replace('.', '-')}" for n in kept)
    )
    assert text.count("agent-pi-3:") == 2  # once a service, once a secret: never twice each
    lines = dict(line.split(":", 1) for line in (tmp_path / "agent_passwords").read_text().split())
    assert sorted(lines) == sorted(kept)
    for node in kept:
        secret = stack["secrets"][f"agent-{node.replace('.', '-')}"]["file"]
        assert Path(secret).read_text().strip() == lines[node]
        service = stack["services"][f"agent-{node.replace('.', '-')}"]
        assert service["deploy"]["placement"]["constraints"] == [f"node.hostname == {node}"]
    assert len(set(lines.values())) == len(lines)  # every node its own
    before = dict(lines)
    env["SWARMGAUGE_NODES"] = "pi-1 pi-7"
    again = subprocess.run(["sh", str(WORKSHOP / "passwords")], env=env, capture_output=True,
                           text=True, timeout=60)  # fmt: skip
    assert again.returncode == 0, again.stderr
    after = dict(line.split(":", 1) for line in (tmp_path / "agent_passwords").read_text().split())
    assert {k: after[k] for k in before} == before and "pi-7" in after
