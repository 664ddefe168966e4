"""/metrics: the cluster in Prometheus' text format, made by prometheus_client.

A custom collector reads the newest snapshot (the one /api/cluster serves) when
Prometheus scrapes, and nothing else: between scrapes it costs nothing. Unknown is
absent, never 0: no strain series while nothing is counted, no desired/running series
while the totals are unknown (swarmgauge_cluster_totals_known says which)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agent.shared.wire.payloads import REASONS
from gauge.summary import alarm, node_counts

SWARM_STATES = ("ready", "down", "unknown", "disconnected")  # Docker's NodeState


@dataclass
class MessageCounts:
    """What the gauge did with the messages it got (kept by the gauge's own thread)."""

    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))


def _gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"swarmgauge_{name}", doc, labels=list(labels))


class ClusterCollector(Collector):
    """The cluster, each node and the gauge itself, read at scrape time."""

    def __init__(
        self,
        snapshot: Callable[[], dict[str, Any]],
        counts: MessageCounts,
        alarm_at: float,
    ) -> None:
        self.snapshot = snapshot
        self.counts = counts
        self.alarm_at = alarm_at

    def describe(self) -> list[Metric]:
        return []  # registering must not collect (nothing to check names against)

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot()
        yield from self._cluster(snap)
        yield from self._nodes(snap["nodes"])
        yield from self._gauge_itself()

    def _cluster(self, snap: dict[str, Any]) -> Iterator[Metric]:
        strain = _gauge("cluster_strain_ratio", "Cluster strain, 0 to 1 (absent while unknown).")
        if snap["strain"] is not None:
            strain.add_metric([], snap["strain"])
        desired = _gauge("cluster_desired_tasks", "Tasks the Swarm wants (absent while unknown).")
        running = _gauge("cluster_running_tasks", "Tasks running (absent while unknown).")
        known = snap["desired"] is not None and snap["running"] is not None
        if known:
            desired.add_metric([], snap["desired"])
            running.add_metric([], snap["running"])
        totals = _gauge(
            "cluster_totals_known",
            "1 while a fresh state from the Swarm leader's agent gives the totals, else 0.",
        )
        totals.add_metric([], 1 if known else 0)
        lit = _gauge("cluster_alarm", "1 while the gauge's alarm is lit, else 0.")
        lit.add_metric([], 1 if alarm(snap, self.alarm_at) else 0)
        nodes = _gauge("cluster_nodes", "Nodes in each state.", ("state",))
        for state, count in node_counts(snap["nodes"]).items():
            nodes.add_metric([state], count)
        yield from (strain, desired, running, totals, lit, nodes)

    def _nodes(self, nodes: list[dict[str, Any]]) -> Iterator[Metric]:
        # readings of a node that is online and fresh (absent otherwise)
        strain = _gauge("node_strain_ratio", "The node's strain, 0 to 1.", ("node",))
        cpu = _gauge("node_cpu_ratio", "The node's CPU use, 0 to 1.", ("node",))
        memory = _gauge("node_memory_ratio", "The node's memory use, 0 to 1.", ("node",))
        tasks = _gauge("node_running_tasks", "Swarm tasks running on the node.", ("node",))
        online = _gauge("node_online", "1 while the node's agent is online.", ("node",))
        stale = _gauge("node_stale", "1 while the node's newest state is stale.", ("node",))
        docker = _gauge("node_docker_ok", "1 while the agent reads Docker.", ("node",))
        swarm = _gauge(
            "node_swarm_state",
            "1 for the node's state as the Swarm leader says (absent while unknown).",
            ("node", "state"),
        )
        for n in nodes:
            name = [n["name"]]
            online.add_metric(name, 1 if n["online"] else 0)
            stale.add_metric(name, 1 if n["stale"] else 0)
            if n.get("swarm_state") in SWARM_STATES:
                for state in SWARM_STATES:
                    swarm.add_metric([n["name"], state], 1 if state == n["swarm_state"] else 0)
            if not n["online"] or n["stale"]:
                continue  # its last readings are not now's: absent, as the Blinkt shows it
            strain.add_metric(name, n["strain"])
            if n.get("cpu_percent") is not None:
                cpu.add_metric(name, n["cpu_percent"] / 100)
            if n.get("memory_percent") is not None:
                memory.add_metric(name, n["memory_percent"] / 100)
            if n.get("tasks_running") is not None:  # unknown: absent, never 0
                tasks.add_metric(name, n["tasks_running"])
            docker.add_metric(name, 1 if n["docker_ok"] else 0)
        yield from (strain, cpu, memory, tasks, online, stale, docker, swarm)

    def _gauge_itself(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "swarmgauge_mqtt_messages_accepted",
            "MQTT messages the gauge took in.",
            value=self.counts.accepted,
        )
        rejected = CounterMetricFamily(
            "swarmgauge_mqtt_messages_rejected",
            "MQTT messages the gauge dropped, by reason.",
            labels=["reason"],
        )
        for reason, count in self.counts.rejected.items():
            rejected.add_metric([reason], count)
        yield rejected


def metrics_page(
    snapshot: Callable[[], dict[str, Any]], counts: MessageCounts, alarm_at: float
) -> Callable[[], bytes]:
    """A function that makes the /metrics text: the cluster, and the process' own
    CPU, memory and open files (prometheus_client reads /proc, also only then)."""
    registry = CollectorRegistry()
    registry.register(ClusterCollector(snapshot, counts, alarm_at))
    ProcessCollector(registry=registry)
    return lambda: generate_latest(registry)
