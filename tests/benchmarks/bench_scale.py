"""How the leader's sample grows with the Swarm: 10, 100 and 1,000 tasks on a real
dockerd, and 10,000 replayed from the 1,000-task answers (each task copied ten times).

    .venv/bin/python -m tests.benchmarks.bench_scale      (as root: starts a test dockerd)

The tasks are a service pinned to a node label nobody has: Swarm lists them (desired
running, pending), which is what the agent reads and parses, without 1,000 containers
on this machine. CPU per sample is the sampling thread's own (parsing included).
"""

from __future__ import annotations

import copy
import json
import statistics
import time
from typing import Any

from agent.docker.http import DockerHttp
from agent.docker.readings import cluster_view, tasks_on_node
from agent.sample import make_swarm_sampler
from agent.settings.config import load_agent_config
from tests.benchmarks.rows import row
from tests.peers.dockerd import Dockerd, scale_service
from tests.peers.net import wait_until

SIZES = (10, 100, 1000)
SAMPLES = 20


def set_tasks(client: Any, count: int) -> None:
    from docker.types import ServiceMode

    if not client.api.services(filters={"name": "scale"}):
        client.services.create(
            "swarmgauge-test/busybox:latest",
            ["sleep", "3600"],
            name="scale",
            mode=ServiceMode("replicated", replicas=count),
            constraints=["node.labels.nowhere==yes"],
        )
    else:
        scale_service(client, "scale", count)

    def listed() -> bool:
        tasks = client.api.tasks(filters={"service": "scale", "desired-state": "running"})
        return len(tasks) == count

    if not wait_until(listed, 120, 0.5):
        raise SystemExit(f"Swarm did not list {count} tasks")


def sample_ms(config_url: str) -> float:
    sampler = make_swarm_sampler(load_agent_config(["--docker-host", config_url], {}), "leader")
    sampler.read()  # connect, read /info
    times = []
    for _ in range(SAMPLES):
        c = time.thread_time()
        reading = sampler.read()
        times.append((time.thread_time() - c) * 1000)
    assert reading.cluster is not None
    sampler.close()
    return statistics.median(times)


def replay_ms(bodies: dict[str, bytes], node_id: str) -> float:
    """Parse the recorded answers as the leader's sample does: JSON, cluster view, own tasks."""
    times = []
    for _ in range(5):
        c = time.thread_time()
        nodes = json.loads(bodies["nodes"])
        services = json.loads(bodies["services"])
        tasks = json.loads(bodies["tasks"])
        cluster_view(nodes, services, tasks)
        tasks_on_node(services, tasks, node_id)
        times.append((time.thread_time() - c) * 1000)
    return statistics.median(times)


def main() -> int:
    per_sample: dict[int, float] = {}
    with Dockerd() as daemon:
        for count in SIZES:
            set_tasks(daemon.client, count)
            per_sample[count] = sample_ms(daemon.base_url)
            row(
                f"CPU of one leader sample, {count:,} tasks (median)", f"{per_sample[count]:.2f} ms"
            )
        version = daemon.client.version()["ApiVersion"]
        api = DockerHttp(daemon.base_url, version, 30)
        node_id = daemon.client.info()["Swarm"]["NodeID"]
        nodes = api.get("/nodes")
        services = api.get("/services", status="true")
        tasks = api.get("/tasks", filters=json.dumps({"desired-state": ["running"]}))
        api.close()
    many = []
    for copy_no in range(10):  # 10,000 tasks: each one ten times, with IDs of their own
        for t in tasks:
            c = copy.deepcopy(t)
            c["ID"] = f"{t['ID']}{copy_no}"
            many.append(c)
    bodies = {
        "nodes": json.dumps(nodes).encode(),
        "services": json.dumps(services).encode(),
        "tasks": json.dumps(many).encode(),
    }
    replay = replay_ms(bodies, node_id)
    row(f"parsing of one leader sample, {len(many):,} tasks replayed", f"{replay:.1f} ms",
        "(the socket read not included)")  # fmt: skip
    per_task = {n: (per_sample[n] - per_sample[SIZES[0]]) / (n - SIZES[0]) for n in SIZES[1:]}
    growth = per_task[SIZES[-1]] / per_task[SIZES[1]] if per_task[SIZES[1]] > 0 else float("nan")
    row("cost per added task, 1,000 vs 100 tasks (1 = linear)", f"{growth:.2f}",
        "linear", None)  # fmt: skip
    print(f"{len(tasks)} tasks recorded, {len(bodies['tasks']) / 1e6:.1f} MB replayed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
