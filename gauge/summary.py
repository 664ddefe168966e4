"""The cluster in a few numbers, from /api/cluster's snapshot: what Home Assistant's
cluster device and Prometheus' node counts show, and whether the alarm is lit. Pure."""

from __future__ import annotations

from typing import Any

from agent.shared.wire.payloads import NODE_STATES  # each node in one, first match wins


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
    return alarm_why(snapshot, alarm_at) is not None


def alarm_why(snapshot: dict[str, Any], alarm_at: float) -> str | None:
    """Why the alarm is lit, in one line; None while it is not."""
    why = []
    strain = snapshot["strain"]
    if strain is not None and strain >= alarm_at:
        why.append(f"strain {strain:.0%} (the alarm is at {alarm_at:.0%})")
    if snapshot.get("totals_lost"):
        why.append(f"the Swarm's totals are lost: {snapshot.get('totals_unknown')}")
    troubled = [
        f"{n['name']} {'offline' if not n['online'] else 'down'}"
        for n in snapshot["nodes"]
        if not n["online"] or n.get("down")
    ]
    if troubled:
        more = f" and {len(troubled) - 3} more" if len(troubled) > 3 else ""
        why.append(", ".join(troubled[:3]) + more)
    return "; ".join(why)[:300] if why else None


def with_alarm(
    snapshot: dict[str, Any], alarm_at: float, amber_at: float, red_at: float
) -> dict[str, Any]:
    """The snapshot as /api/cluster serves it: with the alarm, why it is lit, and the
    levels the page colours by."""
    why = alarm_why(snapshot, alarm_at)
    return {
        **snapshot,
        "alarm": why is not None,
        "alarm_why": why,
        "levels": {"amber": amber_at, "red": red_at, "alarm": alarm_at},
    }


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
