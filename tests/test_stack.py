"""workshop/stack.yml deployed on the test swarm, with images built here."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.mqtt_watch import Watcher
from tests.peers.dockerd import Dockerd, wait_for_running
from tests.peers.images import broker_image
from tests.peers.net import free_port, wait_for_port, wait_until

pytestmark = pytest.mark.docker
STACKS = Path(__file__).resolve().parents[1] / "workshop"


def docker_cli() -> str:
    cli = shutil.which("docker")
    if cli is None:
        pytest.skip("the docker command line is needed for `docker stack deploy`")
    return cli


@pytest.mark.parametrize("stack", ["stack.yml", "stack.socket-proxy.yml"])
def test_stack_deploys_and_the_agent_reaches_the_broker(
    swarm: Dockerd, image: str, stack: str
) -> None:
    cli = docker_cli()
    broker_port, gauge_port = free_port(), free_port()
    env = {
        **os.environ,
        "SWARMGAUGE_IMAGE": image,
        "SWARMGAUGE_BROKER_IMAGE": broker_image(swarm.client),
        "SWARMGAUGE_BROKER_PORT": str(broker_port),
        "SWARMGAUGE_GAUGE_PORT": str(gauge_port),
        "SWARMGAUGE_DOCKER_SOCKET": str(swarm.socket),
    }
    deploy = [
        cli,
        "-H",
        swarm.base_url,
        "stack",
        "deploy",
        "-c",
        str(STACKS / stack),
        "--resolve-image",
        "never",
        "sg",
    ]
    result = subprocess.run(deploy, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    try:
        assert wait_for_running(swarm.client, "sg_broker", 1, timeout_s=60)
        assert wait_for_running(swarm.client, "sg_agent", 1, timeout_s=60)  # global: one node
        assert wait_for_port(broker_port, 30)
        node = swarm.client.info()["Name"].replace(".", "_")
        with Watcher("127.0.0.1", broker_port, "swarmgauge/#", "stack-test") as watch:
            state = watch.wait_for(lambda m: m.topic == f"swarmgauge/node/{node}/state", 60)
            agent_logs = swarm.client.services.get("sg_agent").logs(stdout=True, stderr=True)
            assert state is not None, b"".join(agent_logs).decode()[-2000:]
            assert state.json()["docker"]["ok"] is True
            assert watch.invalid == []
        assert wait_for_running(swarm.client, "sg_gauge", 1, timeout_s=60)
    finally:
        subprocess.run([cli, "-H", swarm.base_url, "stack", "rm", "sg"], capture_output=True)
        swarm.remove_services()
        wait_until(lambda: not swarm.client.networks.list(names=["sg_swarmgauge"]), 30)
