"""Pure parsing of Docker API answers: cases a one-node test swarm cannot show."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

import agent.docker.http as http_module
from agent.docker.connect import NotDocker, api_version, docker_connect
from agent.docker.readings import cluster_key, cluster_view, local_tasks, tasks_on_node
from agent.docker.swarm import STARTING_GRACE_S, SwarmSampler, short_services
from tests.peers.listener import hang_up, serve_each


def node(
    id_: str, state: str = "ready", leader: bool = False, role: str = "worker"
) -> dict[str, Any]:
    n: dict[str, Any] = {
        "ID": id_,
        "Description": {"Hostname": f"pi-{id_}"},
        "Spec": {"Role": role, "Availability": "active"},
        "Status": {"State": state},
    }
    if role == "manager":
        n["ManagerStatus"] = {"Leader": leader}
    return n


def task(
    service: str, node_id: str, state: str = "running", desired: str = "running"
) -> dict[str, Any]:
    return {
        "ServiceID": service,
        "NodeID": node_id,
        "DesiredState": desired,
        "Status": {"State": state},
    }


def service(id_: str, mode: dict[str, Any], status: dict[str, int] | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"ID": id_, "Spec": {"Name": f"svc-{id_}", "Mode": mode}}
    if status is not None:
        s["ServiceStatus"] = status
    return s


def test_task_on_a_down_node_is_not_running() -> None:
    nodes = [node("a", role="manager", leader=True), node("b", state="down")]
    # Docker still says RunningTasks 3: the task on the down node keeps state running
    services = [
        service("s", {"Replicated": {"Replicas": 3}}, {"RunningTasks": 3, "DesiredTasks": 3})
    ]
    tasks = [task("s", "a"), task("s", "a"), task("s", "b")]
    view = cluster_view(nodes, services, tasks)
    (svc,) = view.services
    assert (svc.desired, svc.running) == (3, 2)
    by_name = {n.name: n for n in view.nodes}
    assert by_name["pi-a"].tasks_running == 2 and by_name["pi-a"].leader
    assert by_name["pi-b"].tasks_running == 0 and by_name["pi-b"].state == "down"


def test_nodes_unknown_after_a_failover_are_not_down() -> None:
    """A new leader knows no node's state for a few seconds: no false mass outage."""
    nodes = [node("a", "unknown", True, "manager"), node("b", "unknown"), node("c", "down")]
    services = [service("s", {"Replicated": {"Replicas": 3}}, {"DesiredTasks": 3})]
    tasks = [task("s", "a"), task("s", "b"), task("s", "c")]
    view = cluster_view(nodes, services, tasks)
    (svc,) = view.services
    assert (svc.desired, svc.running) == (3, 2)
    assert [n.tasks_running for n in view.nodes] == [1, 1, 0]


def test_only_tasks_desired_and_currently_running_count() -> None:
    nodes = [node("a")]
    services = [
        service("s", {"Replicated": {"Replicas": 4}}, {"RunningTasks": 1, "DesiredTasks": 4})
    ]
    tasks = [
        task("s", "a"),
        task("s", "a", state="starting"),
        task("s", "a", state="failed"),
        task("s", "a", state="running", desired="shutdown"),  # being stopped
    ]
    (svc,) = cluster_view(nodes, services, tasks).services
    assert (svc.desired, svc.running) == (4, 1)


def test_older_engines_without_service_status() -> None:
    nodes = [node("a"), node("b")]
    services = [service("r", {"Replicated": {"Replicas": 2}}), service("g", {"Global": {}})]
    tasks = [task("r", "a"), task("g", "a"), task("g", "b", state="pending")]
    view = {s.name: s for s in cluster_view(nodes, services, tasks).services}
    assert (view["svc-r"].desired, view["svc-r"].running) == (2, 1)
    assert (view["svc-g"].mode, view["svc-g"].desired, view["svc-g"].running) == ("global", 2, 1)


def test_tasks_on_node_counts_only_that_node_running_tasks() -> None:
    services = [service("w", {"Replicated": {"Replicas": 4}}), service("d", {"Global": {}})]
    tasks = [
        task("w", "a"),
        task("w", "a"),
        task("w", "b"),
        task("d", "a"),
        task("w", "a", state="starting"),
        task("d", "a", desired="shutdown"),
    ]
    assert tasks_on_node(services, tasks, "a") == {"svc-d": 1, "svc-w": 2}
    assert tasks_on_node(services, tasks, "c") == {}


def test_job_modes_are_named() -> None:
    services = [
        service("j", {"ReplicatedJob": {}}, {"RunningTasks": 0, "DesiredTasks": 0}),
        service("k", {"GlobalJob": {}}, {"RunningTasks": 0, "DesiredTasks": 0}),
    ]
    modes = {s.name: s.mode for s in cluster_view([], services, []).services}
    assert modes == {"svc-j": "replicated-job", "svc-k": "global-job"}


def test_local_tasks_group_by_service_and_skip_other_containers() -> None:
    containers = [
        {
            "State": "running",
            "Labels": {"com.docker.swarm.task.id": "t1", "com.docker.swarm.service.name": "web"},
        },
        {
            "State": "running",
            "Labels": {"com.docker.swarm.task.id": "t2", "com.docker.swarm.service.name": "web"},
        },
        {
            "State": "running",
            "Labels": {"com.docker.swarm.task.id": "t3", "com.docker.swarm.service.name": "db"},
        },
        {
            "State": "exited",
            "Labels": {"com.docker.swarm.task.id": "t4", "com.docker.swarm.service.name": "db"},
        },
        {"State": "running", "Labels": {"maintainer": "someone"}},
        {
            "State": "running",
            "Labels": {
                "com.docker.swarm.task.id": "t5",
                "com.docker.swarm.service.name": "swarmgauge_gauge",
                "com.docker.stack.namespace": "swarmgauge",
            },
        },
        {
            "State": "running",
            "Labels": {
                "com.docker.swarm.task.id": "t6",
                "com.docker.swarm.service.name": "shop_web",
                "com.docker.stack.namespace": "shop",
            },
        },
    ]
    by_service = {"db": 1, "shop_web": 1, "swarmgauge_gauge": 1, "web": 2}
    # the gauge's own stack's tasks are counted, and told apart (not strain)
    assert local_tasks(containers, "swarmgauge") == (by_service, 1)
    assert local_tasks(containers, "shop") == (by_service, 1)
    assert local_tasks(containers) == (by_service, 0)


def test_the_gauges_own_services_are_counted_but_not_strain() -> None:
    nodes = [node("a", role="manager", leader=True), node("b")]
    stack = {"Labels": {"com.docker.stack.namespace": "swarmgauge"}}
    services = [
        service("load", {"Replicated": {"Replicas": 2}}),
        {
            **service("gauge", {"Replicated": {"Replicas": 1}}),
            "Spec": {"Name": "swarmgauge_gauge", "Mode": {"Replicated": {"Replicas": 1}}, **stack},
        },
    ]
    tasks = [task("load", "a"), task("load", "b", state="starting"), task("gauge", "a")]
    view = cluster_view(nodes, services, tasks, "swarmgauge")
    assert [(s.name, s.own, s.desired, s.running) for s in view.services] == [
        ("svc-load", False, 2, 1),
        ("swarmgauge_gauge", True, 1, 1),
    ]
    # a task waiting on its healthcheck is not running, and not missing: on its way
    load = view.services[0]
    assert (load.starting, load.missing, load.why) == (1, 0, "starting")
    assert (view.workload_desired, view.workload_missing) == (2, 0)
    assert (view.desired, view.running, view.own_desired, view.own_running) == (3, 2, 1, 1)
    assert [(n.name, n.tasks_running, n.own_tasks) for n in view.nodes] == [
        ("pi-a", 2, 1),
        ("pi-b", 0, 0),
    ]
    # another stack's name: none of them is the gauge's
    assert cluster_view(nodes, services, tasks, "other").own_desired == 0


def test_docker_that_never_answers_times_out_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "silent.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(8)  # accepts connections (the kernel does) but never answers
    try:
        sampler = SwarmSampler(
            docker_connect(f"unix://{path}", 0.3),
            base_url=f"unix://{path}",
            timeout_s=0.3,
        )
        reading = sampler.read()
    finally:
        listener.close()
    assert not reading.ok
    assert reading.error == f"Docker at {path} did not answer within 0.3 s"


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ({"ApiVersion": "1.41"}, "1.41"),
        ({"ApiVersion": "1.47", "Version": "28.5.1"}, "1.47"),
        ({"ApiVersion": "1.12"}, "Docker's API 1.12 is older than the 1.24 Swarm needs"),
        ({"ApiVersion": "v1.41"}, "not as Docker does"),
        ({"ApiVersion": "1.41\n"}, "not as Docker does"),
        ({"ApiVersion": "1.41/../../swarm"}, "not as Docker does"),
        ({"ApiVersion": 1.41}, "not as Docker does"),
        (["1.41"], "not as Docker does"),
    ],
)
def test_the_api_version_is_taken_strictly(answer: object, said: str) -> None:
    """It is put in every request's path: only Docker's own form, 1.24 or newer."""
    try:
        got = api_version(answer, "unix:///run/docker.sock")
    except NotDocker as exc:
        got = str(exc)
    assert said in got


def one_answer_server(path: Path, answer: bytes) -> socket.socket:
    """A unix socket that answers every request with the same bytes, then hangs up."""
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(8)

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            try:
                conn.sendall(answer)
            except OSError:
                pass  # the client stopped reading

    serve_each(listener, serve)
    return listener


def test_a_socket_that_is_not_docker_is_said_so(tmp_path: Path) -> None:
    page = b"<html>nginx</html>"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n"
    listener = one_answer_server(tmp_path / "web.sock", head % len(page) + page)
    try:
        url = f"unix://{tmp_path / 'web.sock'}"
        reading = SwarmSampler(docker_connect(url, 1), url, timeout_s=1).read()
    finally:
        hang_up(listener)
    assert not reading.ok and reading.tasks_running is None
    assert reading.error == f"{url} answered /version, but not as Docker does"


def test_an_answer_without_end_is_not_read_past_its_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_module, "MAX_ANSWER", 1 << 20)  # the bound: 64 MiB
    body = b'{"ApiVersion": "1.41", "Padding": "' + b"x" * (2 << 20) + b'"}'
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    listener = one_answer_server(tmp_path / "big.sock", head + body)
    try:
        url = f"unix://{tmp_path / 'big.sock'}"
        reading = SwarmSampler(docker_connect(url, 1), url, timeout_s=1).read()
    finally:
        hang_up(listener)
    assert not reading.ok
    assert reading.error == "Docker's answer to /version is over 1 MiB"


def pending(service: str) -> dict[str, Any]:
    t = task(service, "", state="pending")
    t["Status"]["Err"] = "no suitable node (insufficient resources on 1 node)"
    return t


def test_swarms_reason_is_said_before_a_task_starting() -> None:
    nodes = [node("a", role="manager", leader=True)]
    services = [service("w", {"Replicated": {"Replicas": 3}})]
    tasks = [task("w", "a", state="starting"), pending("w"), task("w", "a")]
    (svc,) = cluster_view(nodes, services, tasks).services
    assert (svc.running, svc.starting, svc.missing) == (1, 1, 1)
    assert svc.why == "pending: no suitable node (insufficient resources on 1 node)"


def test_a_service_short_too_long_has_its_starting_tasks_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A healthcheck that never passes: Swarm fails the task and starts a new one, each
    `starting` anew; once the service has been short for the grace, they are missing."""
    import agent.docker.swarm as swarm_module

    now = [1000.0]
    monkeypatch.setattr(swarm_module.time, "monotonic", lambda: now[0])
    sampler = SwarmSampler(None)
    nodes = [node("a", role="manager", leader=True)]
    services = [service("w", {"Replicated": {"Replicas": 1}})]
    for second in range(0, 61, 20):  # a new task every 20 s, each starting
        now[0] = 1000.0 + second
        tasks = [task("w", "a", state="starting") | {"ID": f"t{second}"}]
        overdue = sampler._overdue(short_services(tasks))
        (svc,) = cluster_view(nodes, services, tasks, overdue=overdue).services
        assert (svc.starting, svc.missing) == (1, 0), second  # on its way, for now
    now[0] = 1000.0 + STARTING_GRACE_S + 1
    overdue = sampler._overdue(short_services(tasks))
    (svc,) = cluster_view(nodes, services, tasks, overdue=overdue).services
    assert (svc.starting, svc.missing) == (0, 1)
    # running again: the clock starts anew next time it is short
    assert sampler._overdue(short_services([task("w", "a") | {"ID": "t9"}])) == set()
    assert sampler._overdue(short_services(tasks)) == set()


def test_the_cluster_key_changes_with_anything_that_moves_tasks() -> None:
    """The leader keeps its task list while this key holds: every change that can mean a
    task moved, died or was added must change it."""
    status = {"RunningTasks": 3, "DesiredTasks": 3, "CompletedTasks": 0}

    def swarm(**change: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        nodes = [node("a", role="manager", leader=True), node("b")]
        for n, index in zip(nodes, change.get("node_versions", (7, 9)), strict=True):
            n["Version"] = {"Index": index}
        svc = service("s", {"Replicated": {"Replicas": 3}}, {**status, **change.get("st", {})})
        svc["Version"] = {"Index": change.get("service_version", 12)}
        return nodes, [svc]

    key = cluster_key(*swarm())
    assert key is not None and key == cluster_key(*swarm())  # the same Swarm, the same key
    for change in (
        {"node_versions": (7, 10)},  # node b down, drained, promoted…
        {"service_version": 13},  # scaled, updated
        {"st": {"RunningTasks": 2}},  # a task died on some node
        {"st": {"DesiredTasks": 4}},
        {"st": {"CompletedTasks": 1}},  # a job's task ended
    ):
        assert cluster_key(*swarm(**change)) != key, change
    nodes, services = swarm()
    del services[0]["ServiceStatus"]  # an engine before API 1.41: nothing known unchanged
    assert cluster_key(nodes, services) is None
    assert cluster_key(nodes + [node("c")], swarm()[1]) != key  # a node joined


def test_a_swarm_is_settled_when_every_service_has_all_its_tasks_running() -> None:
    nodes = [node("a", role="manager", leader=True)]
    full = service("s", {"Replicated": {"Replicas": 2}}, {"RunningTasks": 2, "DesiredTasks": 2})
    assert cluster_view(nodes, [full], [task("s", "a"), task("s", "a")]).settled
    assert not cluster_view(nodes, [full], [task("s", "a")]).settled
    starting = [task("s", "a"), task("s", "a", state="starting")]
    assert not cluster_view(nodes, [full], starting).settled
