"""The cluster in a few numbers, from /api/cluster's snapshot: what Home Assistant's
cluster device and Prometheus' node counts show, and whether the alarm is lit. Pure."""

from __future__ import annotations

from typing import Any

# Each node is in exactly one of these, first match wins (see node_state).
NODE_STATES = ("offline", "stale", "down", "left", "online")


def node_state(node: dict[str, Any]) -> str:
    """offline: its agent said so (or its last will); stale: no fresh state; down: Swarm
    marks it down; left: the leader's fresh cluster state no longer lists it; online:
    counted in the strain."""
    if not node["online"]:
        return "offline"
    if node["stale"]:
        return "stale"
    if node.get("down"):
        return "down"
    if node.get("in_swarm") is False:
        return "left"
    return "online"


def node_counts(nodes: list[dict[str, Any]]) -> dict[str, int]:
    """How many nodes are in each state (every state present, zeros included)."""
    counts = dict.fromkeys(NODE_STATES, 0)
    for node in nodes:
        counts[node_state(node)] += 1
    return counts


def alarm(snapshot: dict[str, Any], alarm_at: float) -> bool:
    """Lit at high strain, when the totals were lost (no leader, quorum gone), or while
    a node is offline or down."""
    strain = snapshot["strain"]
    return (
        (strain is not None and strain >= alarm_at)
        or bool(snapshot.get("totals_lost"))
        or any(not n["online"] or n.get("down") for n in snapshot["nodes"])
    )


def cluster_summary(snapshot: dict[str, Any], alarm_at: float) -> dict[str, Any]:
    """The gauge's state message (<prefix>/gauge/state) without its time: unknown stays
    null, never 0."""
    counts = node_counts(snapshot["nodes"])
    return {
        "strain": snapshot["strain"],
        "desired": snapshot["desired"],
        "running": snapshot["running"],
        "totals_unknown": snapshot.get("totals_unknown"),
        "alarm": alarm(snapshot, alarm_at),
        "nodes": {"total": len(snapshot["nodes"]), **counts},
    }
