"""Dockerfile.armhf built against the test dockerd from a local base (x86 here)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.helpers import validate
from tests.peers.dockerd import Dockerd
from tests.peers.net import wait_until

pytestmark = pytest.mark.docker


def test_once_in_the_container_prints_valid_snapshots(swarm: Dockerd, image: str) -> None:
    out = swarm.client.containers.run(
        image,
        ["swarmgauge-agent", "--once", "--broker", "none"],
        user="root",  # the Docker socket is root's (see the Dockerfile)
        network_mode="host",
        volumes={str(swarm.socket): {"bind": "/var/run/docker.sock", "mode": "rw"}},
        remove=True,
        stderr=False,
    )
    node_state, cluster_state = (json.loads(line) for line in out.decode().splitlines())
    validate("node", node_state)
    validate("cluster", cluster_state)
    assert node_state["docker"]["ok"] is True and node_state["role"] == "manager"
    assert node_state["node"] == swarm.client.info()["Name"].replace(".", "_")


def test_runs_as_non_root_by_default(swarm: Dockerd, image: str) -> None:
    out = swarm.client.containers.run(image, ["id", "-un"], network_mode="host", remove=True)
    assert out.decode().strip() == "swarmgauge"


def test_healthy_then_stops_fast(swarm: Dockerd, image: str) -> None:
    container: Any = swarm.client.containers.run(
        image,
        ["swarmgauge-agent", "--broker", "none", "--docker-host", "none", "--interval", "1"],
        network_mode="host",
        detach=True,
    )
    try:

        def health() -> str:
            container.reload()
            return str(container.attrs["State"].get("Health", {}).get("Status"))

        assert wait_until(lambda: health() == "healthy", 60, 1), health()
        started = time.monotonic()
        container.stop(timeout=10)
        took = time.monotonic() - started
        container.reload()
        print(f"\ndocker stop took {took:.2f} s")
        assert took < 2.0
        assert container.attrs["State"]["ExitCode"] == 0
        assert "SIGTERM received" in container.logs().decode()
    finally:
        container.remove(force=True)


def test_every_command_of_the_image_turns_healthy_and_stays_healthy(
    swarm: Dockerd, image: str
) -> None:
    """agent (--interval 60 as a flag, beyond the old fixed 30 s), gauge and load, no other
    flags a participant would not give: every healthcheck of the first ~45 s passes."""
    commands = {
        "agent": [
            "swarmgauge-agent",
            "--broker",
            "none",
            "--docker-host",
            "none",
            "--interval",
            "60",
        ],
        "gauge": ["swarmgauge-gauge", "--broker", "none"],
        "load": ["swarmgauge-load", "--cpu", "0.05"],
    }
    containers: dict[str, Any] = {}
    try:
        for name, command in commands.items():
            containers[name] = swarm.client.containers.run(
                image, command, network_mode="none", detach=True
            )

        def checks(c: Any) -> list[dict[str, Any]]:
            c.reload()
            return list(c.attrs["State"].get("Health", {}).get("Log") or [])

        # start period 20 s, then one check each 10 s: four checks reach past 40 s
        done = wait_until(lambda: all(len(checks(c)) >= 4 for c in containers.values()), 90, 1)
        for name, c in containers.items():
            log = checks(c)
            print(f"\n{name}: {[(e['ExitCode'], e['Output'].strip()) for e in log]}")
            assert done and all(e["ExitCode"] == 0 for e in log), (name, log, c.logs()[-500:])
            assert c.attrs["State"]["Health"]["Status"] == "healthy", name
    finally:
        for c in containers.values():
            c.remove(force=True)
