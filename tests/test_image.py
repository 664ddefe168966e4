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
