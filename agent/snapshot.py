"""Node and cluster snapshots: plain data in, JSON-ready dicts out (schema 1).

These are pure functions: the samplers did the I/O, the publisher does the rest.
The JSON Schema files in agent/shared/wire/schemas describe what they return.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from agent.docker.readings import ClusterReading, SwarmReading, node_is_up
from agent.frames import Pixel
from agent.host.reading import HostReading
from agent.shared.wire.payloads import iso_utc
from agent.strain import Strain, cluster_strain, mean01, missing_fraction

SCHEMA_VERSION = 1


def node_snapshot(
    *,
    node: str,
    now: datetime,
    host: HostReading,
    swarm: SwarmReading,
    strain: Strain,
    interval_s: float,
    leds: Sequence[Pixel] | None = None,
    identify: bool = False,
) -> dict[str, Any]:
    snapshot: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "node": node,
        "time": iso_utc(now),
        "interval_s": interval_s,
        "role": swarm.role,
        "leader": swarm.leader,
        "swarm_leader": None if (seen := swarm.sees_leader) is None else seen._asdict(),
        "node_id": swarm.node_id,
        "host": host.as_dict(),
        "tasks": {
            "running": swarm.tasks_running,  # None: Docker could not be read (unknown, not 0)
            "by_service": dict(swarm.tasks_by_service or {}),
            # of those running, the gauge's own stack's: counted, but not strain
            "own": swarm.own_tasks,
        },
        "strain": {k: None if v is None else round(v, 3) for k, v in strain.as_dict().items()},
        "docker": {"ok": swarm.ok, "error": swarm.error},
        "identify": identify,  # its LEDs flash white now: "this one is <node>"
    }
    if leds is not None:
        snapshot["leds"] = [[r, g, b, round(br, 3)] for r, g, b, br in leds]
    return snapshot


def cluster_snapshot(
    *, now: datetime, cluster: ClusterReading, capacity: int, publisher: str
) -> dict[str, Any]:
    """The cluster as the leader's manager sees it; publisher: that agent's node name.

    The leader knows every node's tasks but not their CPU or memory (those arrive in
    each node's own state), so strain here is built from what it does know:
    `tasks` = mean over the nodes not down of running workload tasks / capacity, `missing` =
    the fraction of desired workload tasks neither running nor starting (a task whose
    healthcheck has yet to pass is on its way), `value` = the larger of the two. The
    gauge combines node states and this into the full cluster strain. The
    totals count every task; `own_desired` and `own_running` say how many of them are
    the gauge's own stack's (not strain).

    A leader without quorum (a majority of the managers unreachable) still answers
    from its store: its totals and strain are null then, and `totals_unknown` says why.
    """
    ready = [n for n in cluster.nodes if n.state == "ready"]
    node_task_strains = [
        (n.tasks_running - n.own_tasks) / capacity for n in cluster.nodes if node_is_up(n.state)
    ]
    desired, running = cluster.desired, cluster.running
    # the workload's desired tasks, and those "running" for the strain: a starting one
    # is on its way, not missing
    wanted = cluster.workload_desired
    on_their_way = wanted - cluster.workload_missing
    unknown = cluster.quorum_lost
    known = unknown is None
    return {
        "schema": SCHEMA_VERSION,
        "time": iso_utc(now),
        "leader": next((n.name for n in cluster.nodes if n.leader), None),
        "publisher": publisher,
        "nodes": [
            {
                "name": n.name,
                "id": n.id,
                "role": n.role,
                "state": n.state,
                "availability": n.availability,
                "leader": n.leader,
                "reachability": n.reachability,
                "tasks_running": n.tasks_running,
                "own_tasks": n.own_tasks,
            }
            for n in cluster.nodes
        ],
        "services": [
            {
                "name": s.name,
                "mode": s.mode,
                "desired": s.desired,
                "running": s.running,
                "why": s.why,
                "own": s.own,
                "starting": s.starting,
            }
            for s in cluster.services
        ],
        "totals": {
            "nodes": len(cluster.nodes),
            "nodes_ready": len(ready),
            "services": len(cluster.services),
            "desired": desired if known else None,
            "running": running if known else None,
            "own_desired": cluster.own_desired if known else None,
            "own_running": cluster.own_running if known else None,
        },
        "totals_unknown": unknown,
        "strain": {
            "value": round(cluster_strain(node_task_strains, wanted, on_their_way), 3)
            if known
            else None,
            "tasks": round(mean01(node_task_strains), 3),
            "missing": round(missing_fraction(wanted, on_their_way), 3) if known else None,
        },
    }
