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


@pytest.mark.parametrize("variant", ["locked", "open"])
def test_stack_deploys_and_the_agent_reaches_the_broker(
    swarm: Dockerd, image: str, variant: str, tmp_path: Path
) -> None:
    """The stack as the README deploys it: the nodes listed, passwords, TLS and the
    agents' services made; the node's agent reads Docker through the proxy and logs in
    as its node over TLS; a viewer sees its state over TLS, an anonymous client is
    refused. The open variant lets the anonymous one in, in plain MQTT."""
    cli = docker_cli()
    broker_port, gauge_port = free_port(), free_port()
    secrets = tmp_path / "secrets"
    hostname = swarm.client.info()["Name"]
    env = {
        **os.environ,
        "SWARMGAUGE_IMAGE": image,
        "SWARMGAUGE_BROKER_IMAGE": broker_image(swarm.client),
        "SWARMGAUGE_BROKER_PORT": str(broker_port),
        "SWARMGAUGE_GAUGE_PORT": str(gauge_port),
        "SWARMGAUGE_DOCKER_SOCKET": str(swarm.socket),
        "SWARMGAUGE_SECRETS": str(secrets),
        "SWARMGAUGE_NODES": hostname,
        "SWARMGAUGE_MANAGERS": hostname,
        "SWARMGAUGE_BROKER_OPEN": "yes" if variant == "open" else "no",
    }
    made = subprocess.run(
        ["sh", str(STACKS / "passwords")], env=env, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    viewer = ("viewer", (secrets / "viewer_password").read_text().strip())
    deploy = [cli, "-H", swarm.base_url, "stack", "deploy", "-c", str(STACKS / "stack.yml"),
              "-c", str(secrets / "agents.yml"), "--resolve-image", "never", "sg"]  # fmt: skip
    result = subprocess.run(deploy, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    try:
        assert wait_for_running(swarm.client, "sg_broker", 1, timeout_s=60)
        agent_service = "sg_agent-" + "".join(c if c.isalnum() or c == "-" else "-"
                                              for c in hostname)  # fmt: skip
        assert wait_for_running(swarm.client, agent_service, 1, timeout_s=60)  # its node's
        assert wait_for_port(broker_port, 30)
        node = hostname.replace(".", "_")

        def logs(service: str) -> str:
            lines = swarm.client.services.get(service).logs(stdout=True, stderr=True)
            return b"".join(lines).decode(errors="replace")[-2000:]

        auth = None if variant == "open" else viewer
        ca = None if variant == "open" else secrets / "ca.crt"
        with Watcher("localhost", broker_port, "swarmgauge/#", "stack-test", auth=auth,
                     ca_file=ca) as watch:  # fmt: skip
            state = watch.wait_for(lambda m: m.topic == f"swarmgauge/node/{node}/state", 60)
            assert state is not None, logs(agent_service) + logs("sg_broker")
            # the gauge logs in over TLS too, and finds the node's cluster state
            gauge = watch.wait_for(
                lambda m: m.topic == "swarmgauge/gauge/state" and m.json()["desired"] is not None,
                60,
            )
            assert gauge is not None, logs("sg_gauge") + logs("sg_broker")
            assert state.json()["docker"]["ok"] is True, state.json()["docker"]
            assert watch.invalid == []
        with Watcher("127.0.0.1", broker_port, "swarmgauge/#", "anonymous") as anonymous:
            seen = anonymous.wait_for(lambda m: True, 5)
        assert (seen is not None) == (variant == "open"), logs("sg_broker")
        assert wait_for_running(swarm.client, "sg_gauge", 1, timeout_s=60)
        assert wait_for_running(swarm.client, "sg_docker-proxy", 1, timeout_s=60)
    finally:
        subprocess.run([cli, "-H", swarm.base_url, "stack", "rm", "sg"], capture_output=True)
        swarm.remove_services()
        # both networks (the proxy is on sg_default): the next deploy must not race them
        wait_until(lambda: not swarm.client.networks.list(names=["sg_"]), 30)
