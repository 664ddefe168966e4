"""Snapshots are pure functions of readings, and fit the shipped JSON Schemas."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone

import jsonschema
import pytest

from agent.docker.readings import ClusterNode, ClusterReading, ClusterService, SwarmReading
from agent.host import HostReading
from agent.shared.wire.payloads import iso_utc
from agent.snapshot import cluster_snapshot, node_snapshot
from agent.strain import node_strain
from tests.helpers import validate

NOW = datetime(2026, 11, 27, 23, 30, 19, 601000, tzinfo=UTC)
HOST = HostReading(
    cpu_percent=37.25, load_1m=0.734, cpu_count=1, memory_percent=61.04, temperature_c=48.3
)


def test_iso_utc_is_z_with_milliseconds() -> None:
    assert iso_utc(NOW) == "2026-11-27T23:30:19.601Z"
    assert iso_utc(NOW.astimezone(timezone(timedelta(hours=2)))) == "2026-11-27T23:30:19.601Z"


def make_node(swarm: SwarmReading, leds: list[tuple[int, int, int, float]] | None = None) -> dict:  # type: ignore[type-arg]
    strain = node_strain(HOST.cpu_percent, HOST.memory_percent, swarm.workload_tasks, 8)
    return node_snapshot(
        node="pi-1", now=NOW, host=HOST, swarm=swarm, strain=strain, interval_s=5.0, leds=leds
    )


def test_worker_snapshot_has_every_contract_field() -> None:
    snap = make_node(
        SwarmReading(
            ok=True,
            role="worker",
            node_id="n1x",
            tasks_by_service={"web": 2, "db": 1, "swarmgauge_agent-pi-1": 1},
            own_tasks=1,
        )
    )
    validate("node", snap)
    assert snap == {
        "schema": 1,
        "node": "pi-1",
        "time": "2026-11-27T23:30:19.601Z",
        "interval_s": 5.0,
        "role": "worker",
        "leader": False,
        "swarm_leader": None,
        "node_id": "n1x",
        "host": {
            "cpu_percent": 37.2,
            "load_1m": 0.73,
            "cpu_count": 1,
            "memory_percent": 61.0,
            "temperature_c": 48.3,
            "throttled": None,
        },
        # the gauge's own agent is counted, and is not strain: tasks 3 of 8
        "tasks": {
            "running": 4,
            "by_service": {"web": 2, "db": 1, "swarmgauge_agent-pi-1": 1},
            "own": 1,
        },
        "strain": {"value": 0.61, "cpu": 0.372, "memory": 0.61, "tasks": 0.375},
        "docker": {"ok": True, "error": None},
        "identify": False,  # its LEDs are not flashing white for identify now
    }


def test_docker_error_snapshot_validates() -> None:
    snap = make_node(SwarmReading(ok=False, error="Docker socket /x not found"))
    validate("node", snap)
    assert snap["role"] == "none" and snap["tasks"] == {"running": 0, "by_service": {}, "own": 0}


def test_leds_are_carried_and_validated() -> None:
    leds = [(0, 255, 0, 0.1)] * 3 + [(0, 0, 0, 0.0)] * 5
    snap = make_node(SwarmReading(ok=True, role="worker"), leds=leds)
    validate("node", snap)
    assert snap["leds"][0] == [0, 255, 0, 0.1]


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (("strain", "value"), 1.5),
        (("host", "cpu_percent"), -1),
        (("role",), "boss"),
        (("node",), "pi/1"),
        (("identify",), "yes"),
        (("docker", "error"), None),  # ok is False below: a reason is required
        (("schema",), 2),
    ],
)
def test_schema_rejects_what_breaks_the_contract(path: tuple[str, ...], bad: object) -> None:
    snap = copy.deepcopy(make_node(SwarmReading(ok=False, error="x")))
    target = snap
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = bad
    with pytest.raises(jsonschema.ValidationError):
        validate("node", snap)


def cluster_reading() -> ClusterReading:
    return ClusterReading(
        nodes=(
            ClusterNode("id1", "pi-1", "manager", "ready", "active", True, 3, own_tasks=1),
            ClusterNode("id2", "pi-2", "worker", "ready", "active", False, 1),
            ClusterNode("id3", "pi-3", "worker", "down", "active", False, 0),
        ),
        services=(
            ClusterService("web", "replicated", desired=4, running=3),
            # the gauge's own stack's: counted in the totals, never strain
            ClusterService("agent", "global", desired=3, running=1, own=True),
        ),
    )


def test_cluster_snapshot() -> None:
    snap = cluster_snapshot(now=NOW, cluster=cluster_reading(), capacity=8, publisher="pi-1")
    validate("cluster", snap)
    assert snap["leader"] == "pi-1" and snap["publisher"] == "pi-1"
    assert snap["totals"] == {
        "nodes": 3,
        "nodes_ready": 2,
        "services": 2,
        "desired": 7,
        "running": 4,
        "own_desired": 3,
        "own_running": 1,
    }
    # workload tasks only: mean over ready nodes of (3 - 1)/8 and 1/8; missing: 1 of 4
    # (counting the gauge's own: tasks 0.25, missing 3 of 7)
    assert snap["strain"] == {"value": 0.25, "tasks": 0.188, "missing": 0.25}
    assert [(s["name"], s["own"]) for s in snap["services"]] == [("web", False), ("agent", True)]
    assert [n["own_tasks"] for n in snap["nodes"]] == [1, 0, 0]


def test_cluster_without_leader_validates() -> None:
    reading = ClusterReading(
        nodes=(ClusterNode("id1", "pi-1", "manager", "ready", "active", False, 0),), services=()
    )
    snap = cluster_snapshot(now=NOW, cluster=reading, capacity=8, publisher="pi-1")
    validate("cluster", snap)
    assert snap["leader"] is None and snap["strain"]["value"] == 0.0


def test_a_task_on_its_way_is_not_missing() -> None:
    # a service just made: its one task is starting (its healthcheck not yet passed)
    reading = ClusterReading(
        nodes=(ClusterNode("id1", "pi-1", "manager", "ready", "active", True, 0),),
        services=(
            ClusterService("load", "replicated", desired=1, running=0, starting=1),
            ClusterService("web", "replicated", desired=2, running=1),
        ),
    )
    snap = cluster_snapshot(now=NOW, cluster=reading, capacity=4, publisher="pi-1")
    validate("cluster", snap)
    # web is one of 2 short; load's starting task is not: 1 of the 3 desired is missing
    assert snap["strain"]["missing"] == 0.333 and snap["strain"]["value"] == 0.333
    assert snap["totals"]["running"] == 1  # and it is not counted running either
