"""Swarm sampling against a real dockerd in swarm mode (started by the fixture)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.docker.connect import docker_connect
from agent.docker.http import DockerHttp
from agent.docker.readings import SwarmReading
from agent.docker.swarm import ClusterMode, SwarmSampler
from agent.host import HostSampler
from agent.sample import resolve_node_name, sample_messages, take_sample
from tests.helpers import clean_env, json_lines, run_agent, validate
from tests.peers.dockerd import Dockerd, create_service, scale_service, wait_for_running
from tests.peers.net import wait_until
from tests.peers.socket_proxy import LoopbackProxy

pytestmark = pytest.mark.docker


def connect_to(base_url: str, timeout_s: float = 5) -> Callable[[], DockerHttp]:
    connect = docker_connect(base_url, timeout_s)
    assert connect is not None
    return connect


def sampler_for(base_url: str, cluster: ClusterMode = "any") -> SwarmSampler:
    return SwarmSampler(connect_to(base_url), base_url=base_url, timeout_s=5, cluster=cluster)


def service_counts(reading: SwarmReading, name: str) -> tuple[int, int]:
    assert reading.cluster is not None
    (service,) = [s for s in reading.cluster.services if s.name == name]
    return service.desired, service.running


def validate_messages(reading_sampler: SwarmSampler) -> tuple[dict, dict | None]:  # type: ignore[type-arg]
    sample = take_sample(HostSampler(), reading_sampler, capacity=8)
    node = resolve_node_name(None, sample.swarm)
    node_state, cluster_state = sample_messages(sample, node, capacity=8, interval_s=5)
    validate("node", node_state)
    if cluster_state is not None:
        validate("cluster", cluster_state)
    return node_state, cluster_state


def test_replicated_service_counted_then_scaled(swarm: Dockerd) -> None:
    create_service(swarm.client, "web", ["sleep", "3600"], replicas=3)
    assert wait_for_running(swarm.client, "web", 3)
    reading = sampler_for(swarm.base_url).read()
    assert reading.ok and reading.role == "manager" and reading.leader
    assert reading.tasks_by_service == {"web": 3}
    assert service_counts(reading, "web") == (3, 3)

    scale_service(swarm.client, "web", 5)
    assert wait_for_running(swarm.client, "web", 5)
    reading = sampler_for(swarm.base_url).read()
    assert reading.tasks_by_service == {"web": 5}
    assert service_counts(reading, "web") == (5, 5)
    assert reading.cluster is not None
    (me,) = reading.cluster.nodes
    assert me.tasks_running == 5 and me.state == "ready" and me.leader

    node_state, cluster_state = validate_messages(sampler_for(swarm.base_url))
    assert node_state["tasks"] == {"running": 5, "by_service": {"web": 5}, "own": 0}
    assert node_state["strain"]["tasks"] == 0.625
    assert cluster_state is not None
    assert cluster_state["totals"]["running"] == 5
    assert cluster_state["strain"]["missing"] == 0.0


def test_a_settled_leader_keeps_its_cluster_view_until_anything_moves(swarm: Dockerd) -> None:
    """The cost follows changes, not the Swarm's size: while /nodes and /services say
    what they said and the tasks are kept, the view is not made again from them."""
    create_service(swarm.client, "kept", ["sleep", "3600"], replicas=2)
    assert wait_for_running(swarm.client, "kept", 2)
    sampler = sampler_for(swarm.base_url, cluster="leader")
    views = [sampler.read().cluster for _ in range(3)]
    assert views[2] is not None and views[2] is views[1], "made again with nothing changed"
    scale_service(swarm.client, "kept", 3)
    assert wait_for_running(swarm.client, "kept", 3)
    moved = sampler.read()
    assert moved.cluster is not views[2] and service_counts(moved, "kept") == (3, 3)


def test_global_service_counts_one_on_this_node(swarm: Dockerd) -> None:
    create_service(swarm.client, "everywhere", ["sleep", "3600"], replicas=None)
    assert wait_for_running(swarm.client, "everywhere", 1)
    reading = sampler_for(swarm.base_url).read()
    assert reading.tasks_by_service == {"everywhere": 1}
    assert reading.cluster is not None
    (service,) = reading.cluster.services
    assert (service.mode, service.desired, service.running) == ("global", 1, 1)


def test_failing_service_is_not_running(swarm: Dockerd) -> None:
    create_service(swarm.client, "steady", ["sleep", "3600"], replicas=1)
    # exits non-zero at once; the long restart delay keeps it down while we look
    create_service(swarm.client, "crash", ["sh", "-c", "exit 3"], replicas=2, restart_delay_s=120)
    assert wait_for_running(swarm.client, "steady", 1)

    def both_failed() -> bool:
        tasks = swarm.client.api.tasks(filters={"service": "crash"})
        return sum(t["Status"]["State"] == "failed" for t in tasks) >= 2

    assert wait_until(both_failed, timeout_s=60)
    reading = sampler_for(swarm.base_url).read()
    assert reading.tasks_by_service == {"steady": 1}
    assert service_counts(reading, "crash") == (2, 0)
    _, cluster_state = validate_messages(sampler_for(swarm.base_url))
    assert cluster_state is not None
    totals = cluster_state["totals"]
    assert (totals["desired"], totals["running"]) == (3, 1)
    assert cluster_state["strain"]["missing"] == pytest.approx(2 / 3, abs=1e-3)
    assert cluster_state["strain"]["value"] >= cluster_state["strain"]["missing"]


def test_worker_view_reads_local_containers_only(swarm: Dockerd) -> None:
    create_service(swarm.client, "local", ["sleep", "3600"], replicas=2)
    assert wait_for_running(swarm.client, "local", 2)
    # a plain container that is not a Swarm task is not counted
    plain = swarm.client.containers.run(
        "swarmgauge-test/busybox:latest", ["sleep", "3600"], detach=True, network_mode="host"
    )
    try:
        reading = sampler_for(swarm.base_url, cluster="none").read()
    finally:
        plain.remove(force=True)
    assert reading.ok and reading.cluster is None
    assert reading.tasks_by_service == {"local": 2}
    node_state, cluster_state = validate_messages(sampler_for(swarm.base_url, cluster="none"))
    assert cluster_state is None
    assert node_state["tasks"]["running"] == 2


def test_once_on_a_manager_prints_node_then_cluster(swarm: Dockerd) -> None:
    create_service(swarm.client, "web", ["sleep", "3600"], replicas=2)
    assert wait_for_running(swarm.client, "web", 2)
    result = run_agent(["--once", "--docker-host", swarm.base_url, "--capacity", "4"])
    assert result.returncode == 0, result.stderr
    node_state, cluster_state = json_lines(result.stdout)
    validate("node", node_state)
    validate("cluster", cluster_state)
    hostname = swarm.client.info()["Name"]
    assert node_state["node"] == resolve_node_name(None, SwarmReading(ok=True, hostname=hostname))
    assert (node_state["role"], node_state["leader"]) == ("manager", True)
    # its word on who leads, which the gauge counts in its majority of managers
    info = swarm.client.info()
    leader_seen = {"id": info["Swarm"]["NodeID"], "hostname": hostname}
    assert node_state["swarm_leader"] == leader_seen
    assert node_state["docker"] == {"ok": True, "error": None}
    assert node_state["strain"]["tasks"] == 0.5
    assert cluster_state["leader"] == node_state["node"]
    assert cluster_state["services"] == [
        {
            "name": "web",
            "mode": "replicated",
            "desired": 2,
            "running": 2,
            "why": None,
            "own": False,
            "starting": 0,
        }
    ]


def test_reading_docker_imports_no_docker_sdk(swarm: Dockerd) -> None:
    """The path to the first state: importing the SDK (requests, urllib3, …) was most of
    the start-up CPU under ARM1176 emulation, for one GET /version it made."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "agent", "--once", "--docker-host",
         swarm.base_url, "--broker", "none"],
        capture_output=True, text=True, env=clean_env(), timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-500:]
    assert json_lines(result.stdout)[0]["docker"] == {"ok": True, "error": None}
    loaded = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "agent.docker.http" in loaded  # the check can see what reading Docker imports
    assert not {m for m in loaded if m == "docker" or m.startswith(("docker.", "requests"))}


def test_docker_host_from_environment(swarm: Dockerd) -> None:
    result = run_agent(["--once"], env=clean_env(DOCKER_HOST=swarm.base_url))
    assert result.returncode == 0, result.stderr
    node_state, _cluster = json_lines(result.stdout)
    assert node_state["docker"]["ok"] is True


def test_recovers_when_docker_appears(swarm: Dockerd, tmp_path: Path) -> None:
    link = tmp_path / "docker.sock"
    sampler = sampler_for(f"unix://{link}")
    first = sampler.read()
    assert not first.ok and "not found" in (first.error or "")
    link.symlink_to(swarm.socket)
    second = sampler.read()
    assert second.ok and second.role == "manager"


@pytest.fixture(scope="module")
def plain_dockerd(dockerd: Dockerd) -> Iterator[Dockerd]:
    """A second dockerd that is in no swarm (needs the first to have started)."""
    with Dockerd(swarm=False) as daemon:
        yield daemon


def test_engine_not_in_a_swarm(plain_dockerd: Dockerd) -> None:
    reading = sampler_for(plain_dockerd.base_url).read()
    assert not reading.ok
    assert reading.error is not None and "not in a swarm" in reading.error
    assert reading.hostname  # still known: the node name comes from Docker
    result = run_agent(["--once", "--docker-host", plain_dockerd.base_url])
    (node_state,) = json_lines(result.stdout)
    validate("node", node_state)
    assert node_state["role"] == "none" and node_state["docker"]["ok"] is False


@pytest.fixture
def proxy(swarm: Dockerd) -> Iterator[LoopbackProxy]:
    with LoopbackProxy(str(swarm.socket)) as p:
        yield p


@pytest.mark.parametrize(("max_age_s", "expected_calls"), [(60.0, 1), (0.0, 5)])
def test_info_is_read_again_only_when_old(
    proxy: LoopbackProxy, max_age_s: float, expected_calls: int
) -> None:
    sampler = SwarmSampler(connect_to(proxy.url, 3), proxy.url, info_max_age_s=max_age_s)
    readings = [sampler.read() for _ in range(5)]
    assert all(r.ok and r.role == "manager" for r in readings)
    assert proxy.paths().count("info") == expected_calls


@pytest.mark.parametrize(
    ("mode", "per_sample"),
    [
        # own tasks from its engine; settled, the Swarm's task list is kept (cluster_key)
        ("leader", ["nodes", "services", "containers/json"]),
        ("none", ["containers/json"]),  # the local view: one GET
    ],
)
def test_gets_per_sample(
    swarm: Dockerd, proxy: LoopbackProxy, mode: ClusterMode, per_sample: list[str]
) -> None:
    create_service(swarm.client, "web", ["sleep", "3600"], replicas=2)
    assert wait_for_running(swarm.client, "web", 2)
    sampler = SwarmSampler(connect_to(proxy.url, 3), proxy.url, cluster=mode)
    sampler.read()  # connects (GET /version) and reads /info
    seen = len(proxy.requests)
    reading = sampler.read()
    assert proxy.paths()[seen:] == per_sample
    assert reading.tasks_by_service == {"web": 2}
    assert (reading.cluster is not None) == (mode == "leader")


def test_agent_works_through_a_read_only_socket_proxy(swarm: Dockerd, proxy: LoopbackProxy) -> None:
    create_service(swarm.client, "web", ["sleep", "3600"], replicas=1)
    assert wait_for_running(swarm.client, "web", 1)
    result = run_agent(["--once", "--docker-host", proxy.url])
    assert result.returncode == 0, result.stderr
    node_state, cluster_state = json_lines(result.stdout)
    assert node_state["docker"] == {"ok": True, "error": None}
    assert node_state["tasks"]["by_service"] == {"web": 1}
    validate("cluster", cluster_state)
    assert proxy.requests and proxy.refused == []
    assert all(r.startswith("GET ") for r in proxy.requests)


def test_socket_proxy_refuses_what_the_agent_does_not_need(proxy: LoopbackProxy) -> None:
    """Against the real dockerd: a leaking GET and a POST are refused, /_ping passes."""
    import socket

    for raw in (
        b"POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\n\r\n",
        b"GET /v1.41/swarm HTTP/1.1\r\nHost: docker\r\n\r\n",  # join tokens
    ):
        with socket.create_connection(proxy.address, timeout=5) as s:
            s.sendall(raw)
            assert s.recv(200).startswith(b"HTTP/1.1 403")
    assert proxy.refused == ["method POST", "path '/v1.41/swarm'"]
    with socket.create_connection(proxy.address, timeout=5) as s:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
        assert s.recv(200).startswith(b"HTTP/1.1 200")


def test_role_and_node_id_outlive_a_failed_read(swarm: Dockerd) -> None:
    """Docker slow or its proxy gone: the node stays the Swarm node it was (the gauge maps
    it by ID), with ok false and why; it never becomes role none, id null."""
    with LoopbackProxy(str(swarm.socket)) as p:
        sampler = SwarmSampler(connect_to(p.url, 1), p.url, timeout_s=1)
        good = sampler.read()
    assert good.ok and good.node_id and good.role == "manager"
    failed = sampler.read()  # the proxy is gone
    assert not failed.ok and failed.error
    # ...and its tasks, which it could not count, are unknown, never 0
    assert (failed.role, failed.node_id, failed.tasks_running) == ("manager", good.node_id, None)
    assert not failed.leader


class FaultyProxy(LoopbackProxy):
    """The real dockerd behind a proxy that fails one path: it hangs unanswered, as a
    restarted manager's /info does while it waits on Raft (2-7 s in the fault suite), or
    it gets dockerd's own words for a state too brief to catch on purpose."""

    def __init__(self, unix_path: str, path: str, answer: bytes | None = None) -> None:
        super().__init__(unix_path)
        self.path = path.encode()
        self.answer = answer

    def _relay(self, client: socket.socket, request: bytes, stream_s: float | None = None) -> None:
        if not request.split(b" ", 2)[1].split(b"?")[0].endswith(self.path):
            super()._relay(client, request, stream_s)
            return
        if self.answer is None:
            time.sleep(3)  # longer than the sampler's timeout; then nothing
        else:
            client.sendall(self.answer)
        client.close()


def test_engine_tasks_still_count_while_info_hangs(swarm: Dockerd) -> None:
    """A Swarm call that times out while the engine answers: the reading says why, and
    its tasks are the engine's own containers, never 0 it did not count."""
    create_service(swarm.client, "counted", ["sleep", "3600"], replicas=2)
    assert wait_for_running(swarm.client, "counted", 2)
    with FaultyProxy(str(swarm.socket), "/info") as p:
        reading = SwarmSampler(connect_to(p.url, 1), p.url, timeout_s=1).read()
        assert p.paths()[-1] == "containers/json"
    assert not reading.ok and reading.error and "did not answer within 1 s" in reading.error
    assert reading.tasks_by_service == {"counted": 2}


PREPARING = (
    "This node is not a swarm manager. Manager is being prepared or has trouble "
    "connecting to the cluster."
)  # dockerd's words (daemon/cluster/errors.go) for a manager whose Raft is not up yet


def test_a_manager_being_prepared_stays_a_manager(swarm: Dockerd) -> None:
    """A restarted manager's /nodes refuses for seconds: it is still a manager, with
    its own engine's tasks, not a worker (seen for 5 s after a leader's restart)."""
    create_service(swarm.client, "kept", ["sleep", "3600"], replicas=1)
    assert wait_for_running(swarm.client, "kept", 1)
    body = json.dumps({"message": PREPARING}).encode()
    answer = (
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    with FaultyProxy(str(swarm.socket), "/nodes", answer) as p:
        reading = SwarmSampler(connect_to(p.url), p.url, timeout_s=5, cluster="leader").read()
    assert (reading.ok, reading.role, reading.leader) == (False, "manager", False)
    assert reading.error is not None and "not yet in touch" in reading.error
    assert reading.tasks_by_service == {"kept": 1} and reading.cluster is None


def info_answer(state: str) -> bytes:
    """/info as a dockerd says it while it stops (inactive) or starts (pending)."""
    body = json.dumps({"Name": "node", "Swarm": {"LocalNodeState": state, "NodeID": ""}})
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body.encode()
    )


def test_a_dockerd_stopping_or_starting_keeps_the_nodes_identity(swarm: Dockerd) -> None:
    """For a moment a dockerd that stops says "inactive", one that starts "pending":
    that is not who the node is. Said long enough in a row, the node has left."""
    create_service(swarm.client, "kept2", ["sleep", "3600"], replicas=1)
    assert wait_for_running(swarm.client, "kept2", 1)
    with FaultyProxy(str(swarm.socket), "/nothing-faulty") as p:
        sampler = SwarmSampler(
            connect_to(p.url), p.url, timeout_s=5, info_max_age_s=0, left_after_s=1.0
        )
        good = sampler.read()
        p.path, p.answer = b"/info", info_answer("inactive")
        stopping = sampler.read()
        p.answer = info_answer("pending")
        starting = sampler.read()
        time.sleep(1.2)
        left = sampler.read()
    assert good.ok and good.node_id and good.role == "manager"
    for reading in (stopping, starting):
        assert (reading.role, reading.node_id) == ("manager", good.node_id), reading
        assert not reading.ok and reading.error and "swarm" in reading.error
        assert reading.tasks_by_service == {**good.tasks_by_service}  # counted, not 0
    assert (left.role, left.node_id, left.error) == ("none", None, "swarm state is pending")


def test_a_hung_leadership_probe_says_no_leader_within_its_own_deadline(swarm: Dockerd) -> None:
    """After a disruptive election a manager's /nodes hangs: "no leader" comes after the
    probe's deadline, not the whole Docker timeout, and the engine's tasks still count."""
    create_service(swarm.client, "kept3", ["sleep", "3600"], replicas=1)
    assert wait_for_running(swarm.client, "kept3", 1)
    with FaultyProxy(str(swarm.socket), "/nodes") as p:  # hangs 3 s, then nothing
        sampler = SwarmSampler(
            connect_to(p.url, 3), p.url, timeout_s=3, cluster="leader", probe_timeout_s=0.5
        )
        reading = sampler.read()
    assert (reading.ok, reading.role, reading.leader) == (False, "manager", False)
    assert reading.error is not None and reading.error.startswith("no Swarm leader")
    assert "did not answer within 0.5 s" in reading.error
    assert reading.tasks_by_service is not None and reading.tasks_by_service.get("kept3") == 1
