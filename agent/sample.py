"""One sample of a node: host and Swarm readings with the strain they make."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agent.docker.connect import docker_connect
from agent.docker.events import Changes
from agent.docker.readings import SwarmReading
from agent.docker.swarm import ClusterMode, SwarmSampler, leadership_deadline
from agent.frames import UNKNOWN_CLUSTER, ClusterLeds, Frame, frame_for
from agent.host import HostReading, HostSampler
from agent.settings.config import AgentConfig
from agent.shared.wire.names import safe_name
from agent.snapshot import cluster_snapshot, node_snapshot
from agent.strain import Strain, node_strain


@dataclass(frozen=True)
class Sample:
    time: datetime
    host: HostReading
    swarm: SwarmReading
    strain: Strain


def make_swarm_sampler(
    config: AgentConfig, cluster: ClusterMode, changes: Changes | None = None
) -> SwarmSampler:
    """The Swarm sampler the settings ask for (cluster: which nodes read the cluster;
    changes: what Docker's event stream says changed, where it is followed)."""
    return SwarmSampler(
        docker_connect(config.docker_host, config.docker_timeout_s),
        base_url=config.docker_host or "",
        timeout_s=config.docker_timeout_s,
        cluster=cluster,
        probe_timeout_s=leadership_deadline(config.interval_s, config.docker_timeout_s),
        stack=config.stack,
        changes=changes,
        resync_s=config.resync_s,
    )


def sample_frame(
    sample: Sample, config: AgentConfig, cluster: ClusterLeds = UNKNOWN_CLUSTER
) -> Frame:
    """The LED frame for this sample, as --led-mode, --brightness and the thresholds say
    (cluster: what the gauge's state says, for --led-mode cluster and split)."""
    return frame_for(
        config.led_mode,
        strain=sample.strain.value,
        tasks_by_service=sample.swarm.tasks_by_service or {},
        docker_ok=sample.swarm.ok,
        brightness=config.brightness,
        thresholds=config.thresholds,
        cluster=cluster,
    )


def take_sample(
    host: HostSampler,
    swarm: SwarmSampler,
    capacity: int,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Sample:
    swarm_reading = swarm.read()
    host_reading = host.read()
    strain = node_strain(
        host_reading.cpu_percent,
        host_reading.memory_percent,
        swarm_reading.workload_tasks,
        capacity,
    )
    return Sample(time=clock(), host=host_reading, swarm=swarm_reading, strain=strain)


def resolve_node_name(given: str | None, swarm: SwarmReading) -> str:
    """--node-name, else Docker's host name (the Pi's), else this machine's host name.

    Inside a container the last is the container id: a fallback only.
    """
    return safe_name(given or swarm.hostname or socket.gethostname())


def sample_messages(
    sample: Sample,
    node: str,
    capacity: int,
    interval_s: float,
    leds: Frame | None = None,
    identify: bool = False,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The node snapshot, and the cluster snapshot where this node sees the cluster."""
    node_state = node_snapshot(
        node=node,
        now=sample.time,
        host=sample.host,
        swarm=sample.swarm,
        strain=sample.strain,
        interval_s=interval_s,
        leds=leds,
        identify=identify,
    )
    cluster = sample.swarm.cluster
    if cluster is None:
        return node_state, None
    return node_state, cluster_snapshot(
        now=sample.time, cluster=cluster, capacity=capacity, publisher=node
    )
