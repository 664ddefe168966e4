"""The strain formula (a contract, documented in the README).

Every component is a fraction from 0 (idle) to 1 (at capacity):

    cpu    = cpu_percent / 100
    memory = memory_percent / 100
    tasks  = running workload tasks / task capacity (default 4)

Workload: every Swarm task but the gauge's own stack's (its broker, gauge, agents and
socket proxies are counted in the task totals, never in the strain: the gauge must
not measure itself). A node's strain is its largest known component (tasks is None
while Docker cannot be read: unknown, never 0). The cluster's strain is the larger
of the mean of the online nodes' strains and the fraction of desired workload tasks
that are missing: neither running nor starting (a task whose healthcheck has yet to
pass is on its way).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Four small services beside the gauge's own is what a Pi Zero W (one core, 512 MB)
# runs without strain showing in its CPU: so the fourth load task of lab 4 on a node
# makes it red, whatever the node (a laptop's cores would hide it in the CPU).
DEFAULT_TASK_CAPACITY = 4


@dataclass(frozen=True)
class Strain:
    """A node's strain and its components, each 0 to 1 (tasks None: unknown)."""

    value: float
    cpu: float
    memory: float
    tasks: float | None

    def as_dict(self) -> dict[str, float | None]:
        return {"value": self.value, "cpu": self.cpu, "memory": self.memory, "tasks": self.tasks}


def clamp01(x: float) -> float:
    """x limited to 0..1 (NaN counts as 0)."""
    if not x > 0.0:  # also catches NaN
        return 0.0
    return min(x, 1.0)


def node_strain(
    cpu_percent: float,
    memory_percent: float,
    tasks_running: int | None,
    capacity: int = DEFAULT_TASK_CAPACITY,
) -> Strain:
    """Strain of one node. cpu_percent and memory_percent: 0 to 100; capacity ≥ 1;
    tasks_running: workload tasks (the gauge's own left out), None where they could
    not be counted (then tasks is None too)."""
    if capacity < 1:
        raise ValueError(f"task capacity must be at least 1, got {capacity}")
    cpu = clamp01(cpu_percent / 100.0)
    memory = clamp01(memory_percent / 100.0)
    tasks = None if tasks_running is None else clamp01(tasks_running / capacity)
    return Strain(value=max(cpu, memory, tasks or 0.0), cpu=cpu, memory=memory, tasks=tasks)


def missing_fraction(desired: int, running: int) -> float:
    """Fraction (0 to 1) of desired tasks that are not running; 0 when nothing is desired."""
    if desired <= 0:
        return 0.0
    return clamp01((desired - running) / desired)


def mean01(values: Iterable[float]) -> float:
    """Mean of values each clamped to 0..1; 0 when there are none."""
    clamped = [clamp01(v) for v in values]
    return sum(clamped) / len(clamped) if clamped else 0.0


def cluster_strain(online_node_values: Iterable[float], desired: int, running: int) -> float:
    """Cluster strain (0 to 1): max(mean of online nodes' strains, missing fraction)."""
    return combined_strain(online_node_values, missing_fraction(desired, running))


def combined_strain(online_node_values: Iterable[float], missing: float) -> float:
    """Cluster strain (0 to 1) from the nodes' strains and the missing fraction (0 to 1)."""
    return max(mean01(online_node_values), clamp01(missing))
