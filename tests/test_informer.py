"""List once, then watch: the agent lists its engine's task containers when Docker's
event stream says they changed, not every sample; a lost event heals within --resync;
a hung dockerd is said. Through a relay in front of the real dockerd that notes every
request, and loses events or hangs on purpose."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import AgentProcess
from tests.mqtt_watch import Received, Watcher, topic_is
from tests.peers.broker import Broker
from tests.peers.docker_relay import DockerRelay
from tests.peers.dockerd import Dockerd, create_service, wait_for_running
from tests.peers.socket_proxy import UnixProxy

pytestmark = pytest.mark.docker

STATE = "swarmgauge/node/n1/state"
LIST = "/containers/json"


@pytest.fixture
def relay(swarm: Dockerd, tmp_path: Path) -> Iterator[DockerRelay]:
    with DockerRelay(tmp_path / "relay.sock", swarm.socket) as r:
        yield r


def agent_args(broker: Broker, relay: DockerRelay, *more: str) -> list[str]:
    return ["--broker", broker.url, "--node-name", "n1", "--docker-host", relay.base_url,
            "--interval", "0.5", "--docker-timeout", "1", *more]  # fmt: skip


def running(n: int) -> Callable[[Received], bool]:
    return lambda m: m.topic == STATE and m.json()["tasks"]["running"] == n


def test_an_idle_node_lists_its_containers_only_when_events_say(
    swarm: Dockerd, broker: Broker, relay: DockerRelay, tmp_path: Path
) -> None:
    with (
        AgentProcess(agent_args(broker, relay), tmp_path / "agent.log") as agent,
        Watcher(broker.host, broker.port, "swarmgauge/#") as watch,
    ):
        assert watch.wait_for(running(0), 15) is not None, agent.log()
        create_service(swarm.client, "web", ["sleep", "3600"], replicas=2)
        assert wait_for_running(swarm.client, "web", 2)
        assert watch.wait_for(running(2), 5) is not None, agent.log()
        time.sleep(1.0)  # the events of the start behind us
        since, seen = time.time(), len(watch.messages)
        time.sleep(5.0)
        states = [m for m in watch.messages[seen:] if m.topic == STATE]
        lists = relay.count(LIST, since)
        print(f"idle 5 s at a 0.5 s interval: {len(states)} states, {lists} container lists")
        assert len(states) >= 5  # it went on sampling and publishing
        assert lists == 0, relay.requests[-20:]
        assert relay.count("/events") == 1  # one stream, followed all along
        seen = len(watch.messages)
        swarm.client.services.get("web").scale(1)
        assert watch.wait_for(running(1), 5, after=seen) is not None, agent.log()
        assert relay.count(LIST, since) >= 1  # the die event: listed again


def test_a_lost_event_heals_within_the_resync(
    swarm: Dockerd, broker: Broker, relay: DockerRelay, tmp_path: Path
) -> None:
    relay.swallow_events = True  # the stream is answered, and says nothing ever
    args = agent_args(broker, relay, "--resync", "5")
    with (
        AgentProcess(args, tmp_path / "agent.log") as agent,
        Watcher(broker.host, broker.port, "swarmgauge/#") as watch,
    ):
        assert watch.wait_for(running(0), 15) is not None, agent.log()
        create_service(swarm.client, "web", ["sleep", "3600"], replicas=2)
        assert wait_for_running(swarm.client, "web", 2)
        up = time.time()
        healed = watch.wait_for(running(2), 5 + 3)  # a resync, a sample and some slack
        assert healed is not None, agent.log()
        print(f"the lost start events healed {healed.at - up:.1f} s after the tasks ran")
        assert relay.count("/events") >= 2  # the silent stream was opened again
        assert agent.alive()


def test_a_hung_dockerd_is_said_and_its_return_too(
    swarm: Dockerd, broker: Broker, relay: DockerRelay, tmp_path: Path
) -> None:
    args = agent_args(broker, relay, "--resync", "5")
    with (
        AgentProcess(args, tmp_path / "agent.log") as agent,
        Watcher(broker.host, broker.port, "swarmgauge/#") as watch,
    ):
        assert watch.wait_for(topic_is(STATE), 15) is not None, agent.log()
        relay.hang = True
        hung, seen = time.time(), len(watch.messages)
        said = watch.wait_for(
            lambda m: m.topic == STATE and not m.json()["docker"]["ok"], 12, after=seen
        )
        assert said is not None, agent.log()
        print(f"a hung dockerd said {said.at - hung:.1f} s after it hung")
        assert said.json()["tasks"]["running"] is None  # unknown, not 0
        time.sleep(3.0)  # samples go on meanwhile: none may claim a count it cannot read
        seen, after = len(watch.messages), watch.messages.index(said)
        while_hung = [m.json() for m in watch.messages[after:seen] if m.topic == STATE]
        assert while_hung and all(
            not s["docker"]["ok"] and s["tasks"]["running"] is None for s in while_hung
        ), while_hung
        relay.hang = False
        back = watch.wait_for(
            lambda m: m.topic == STATE and m.json()["docker"]["ok"], 15, after=seen
        )
        assert back is not None, agent.log()


CLUSTER = "swarmgauge/node/n1/cluster"


def cluster_running(n: int) -> Callable[[Received], bool]:
    return lambda m: m.topic == CLUSTER and m.json()["totals"]["running"] == n


def test_a_settled_leader_lists_its_tasks_only_when_its_services_change(
    swarm: Dockerd, broker: Broker, relay: DockerRelay, tmp_path: Path
) -> None:
    """No task event reaches the leader from another node: a task that dies anywhere
    shows in its service's counts (read every sample), and then the tasks are listed."""
    with (
        AgentProcess(agent_args(broker, relay), tmp_path / "agent.log") as agent,
        Watcher(broker.host, broker.port, "swarmgauge/#") as watch,
    ):
        create_service(swarm.client, "web", ["sleep", "3600"], replicas=2)
        assert wait_for_running(swarm.client, "web", 2)
        assert watch.wait_for(cluster_running(2), 15) is not None, agent.log()
        time.sleep(1.0)
        since = time.time()
        time.sleep(4.0)
        tasks, services = relay.count("/tasks", since), relay.count("/services", since)
        print(f"settled 4 s at a 0.5 s interval: {services} service lists, {tasks} task lists")
        assert services >= 4 and tasks == 0, relay.requests[-12:]
        (victim, *_) = swarm.client.api.containers(
            filters={"label": "com.docker.swarm.service.name=web"}
        )
        seen = len(watch.messages)
        swarm.client.api.kill(victim["Id"])
        short = watch.wait_for(cluster_running(1), 5, after=seen)
        assert short is not None, agent.log()
        assert relay.count("/tasks", since) >= 1
        assert watch.wait_for(cluster_running(2), 20, after=seen) is not None, agent.log()


def test_events_wake_the_agent_through_the_socket_proxy(
    swarm: Dockerd, broker: Broker, tmp_path: Path
) -> None:
    """As deployed: the stack's proxy answers each request with `Connection: close`; the
    stream must be followed through it, or a task start waits for the next sample."""
    with UnixProxy(str(tmp_path / "proxy.sock"), str(swarm.socket)) as proxy:
        args = ["--broker", broker.url, "--node-name", "n1", "--docker-host", proxy.url,
                "--interval", "60"]  # fmt: skip
        with (
            AgentProcess(args, tmp_path / "agent.log") as agent,
            Watcher(broker.host, broker.port, "swarmgauge/#") as watch,
        ):
            assert watch.wait_for(running(0), 15) is not None, agent.log()
            time.sleep(1.0)  # the stream open, the agent in its 60 s wait
            create_service(swarm.client, "web", ["sleep", "3600"], replicas=1)
            assert wait_for_running(swarm.client, "web", 1)
            assert watch.wait_for(running(1), 5) is not None, agent.log()
            assert "Docker events:" not in agent.log(), agent.log()
