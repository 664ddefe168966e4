"""The event path and the leader's cluster state, against the real swarm and broker."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.helpers import AgentProcess
from tests.mqtt_watch import Watcher, topic_is
from tests.peers.broker import Broker
from tests.peers.dockerd import Dockerd, create_service, wait_for_running

pytestmark = pytest.mark.docker

STATE = "swarmgauge/node/n1/state"
CLUSTER = "swarmgauge/node/n1/cluster"


def started_at(swarm: Dockerd, service: str) -> float:
    (container,) = swarm.client.api.containers(
        filters={"label": f"com.docker.swarm.service.name={service}"}
    )
    started = swarm.client.api.inspect_container(container["Id"])["State"]["StartedAt"]
    # Docker gives nanoseconds: keep microseconds for fromisoformat
    head, _, frac = started.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{frac[:6]}+00:00").timestamp()


def test_container_start_publishes_within_1s_not_at_next_interval(
    swarm: Dockerd, broker: Broker, tmp_path: Path
) -> None:
    args = [
        "--broker",
        broker.url,
        "--node-name",
        "n1",
        "--docker-host",
        swarm.base_url,
        "--interval",
        "60",
    ]  # the poll alone would take a minute
    with (
        AgentProcess(args, tmp_path / "agent.log") as agent,
        Watcher(broker.host, broker.port, "swarmgauge/#") as watch,
    ):
        first = watch.wait_for(topic_is(STATE), 15)
        assert first is not None, agent.log()
        assert first.json()["tasks"]["running"] == 0
        time.sleep(1.0)  # let the agent settle into its 60 s wait
        create_service(swarm.client, "web", ["sleep", "3600"], replicas=1)
        assert wait_for_running(swarm.client, "web", 1)
        state = watch.wait_for(
            lambda m: m.topic == STATE and m.json()["tasks"]["by_service"] == {"web": 1}, 5
        )
        assert state is not None, agent.log()
        latency = state.at - started_at(swarm, "web")
        print(f"state with the new task {latency:.3f} s after the container started")
        assert latency < 1.0

        cluster = watch.wait_for(
            lambda m: m.topic == CLUSTER and m.json()["totals"]["running"] == 1, 5
        )
        assert cluster is not None
        assert cluster.json()["leader"] == swarm.client.info()["Name"]
        assert watch.invalid == []
        with Watcher(broker.host, broker.port, CLUSTER, "late") as late:
            retained = late.wait_for(topic_is(CLUSTER), 5)
            assert retained is not None and retained.retain


def test_a_task_counts_as_soon_as_its_healthcheck_passes(
    swarm: Dockerd, broker: Broker, tmp_path: Path
) -> None:
    """A task still starting (its healthcheck not yet passed) is not running, for Swarm
    nor the agent; its health event wakes the agent, not the next 60 s sample."""
    import docker.types

    args = ["--broker", broker.url, "--node-name", "n1", "--docker-host", swarm.base_url,
            "--interval", "60"]  # fmt: skip
    with (
        AgentProcess(args, tmp_path / "agent.log") as agent,
        Watcher(broker.host, broker.port, STATE) as watch,
    ):
        assert watch.wait_for(topic_is(STATE), 15) is not None, agent.log()
        time.sleep(1.0)
        created = time.monotonic()
        check = docker.types.Healthcheck(test=["CMD", "true"], interval=3_000_000_000)
        create_service(swarm.client, "hc", ["sleep", "3600"], healthcheck=check)
        healthy = watch.wait_for(
            lambda m: m.topic == STATE and m.json()["tasks"]["by_service"] == {"hc": 1}, 30
        )
        assert healthy is not None, agent.log()
        # counted when healthy (the first check is 3 s after the start), not before
        assert 2.5 < healthy.at - (time.time() - (time.monotonic() - created)) < 20
        starting = [m for m in watch.messages if m.topic == STATE and m.at < healthy.at]
        assert all(m.json()["tasks"]["by_service"] == {} for m in starting)
