"""What Docker says, as plain data: Swarm readings and the pure parsing of the Engine
API's answers (/nodes, /services, /tasks, /containers/json). No I/O here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

Role = Literal["manager", "worker", "none"]

TASK_LABEL = "com.docker.swarm.task.id"
SERVICE_LABEL = "com.docker.swarm.service.name"
# `docker stack deploy` puts it on a stack's services and their containers: the gauge's
# own stack's tasks are counted, but are not strain (the gauge must not measure itself)
STACK_LABEL = "com.docker.stack.namespace"


@dataclass(frozen=True)
class ClusterNode:
    """A Swarm node as a manager sees it. state: ready/down/…; availability: active/pause/drain."""

    id: str
    name: str
    role: str
    state: str
    availability: str
    leader: bool
    tasks_running: int
    reachability: str | None = None  # a manager's, as the leader sees it: reachable/unreachable
    own_tasks: int = 0  # of tasks_running, the gauge's own stack's


@dataclass(frozen=True)
class ClusterService:
    """A service: mode replicated/global/replicated-job/global-job; task counts.
    why: where tasks are missing, what Swarm says of one that is not running."""

    name: str
    mode: str
    desired: int
    running: int
    why: str | None = None
    own: bool = False  # one of the gauge's own stack's services: not strain
    starting: int = 0  # of those not running, started and waiting on their healthcheck

    @property
    def missing(self) -> int:
        """Desired tasks neither running nor starting: what the cluster is short of."""
        return max(self.desired - self.running - self.starting, 0)


@dataclass(frozen=True)
class ClusterReading:
    nodes: tuple[ClusterNode, ...]
    services: tuple[ClusterService, ...]

    @property
    def desired(self) -> int:
        return sum(s.desired for s in self.services)

    @property
    def running(self) -> int:
        return sum(s.running for s in self.services)

    @property
    def own_desired(self) -> int:
        return sum(s.desired for s in self.services if s.own)

    @property
    def own_running(self) -> int:
        return sum(s.running for s in self.services if s.own)

    @property
    def workload_desired(self) -> int:
        return sum(s.desired for s in self.services if not s.own)

    @property
    def workload_missing(self) -> int:
        """Workload tasks the cluster is short of (a task starting is on its way)."""
        return sum(s.missing for s in self.services if not s.own)

    @property
    def settled(self) -> bool:
        """Every service has all its tasks running: nothing on its way, nothing short."""
        return all(s.running == s.desired and s.starting == 0 for s in self.services)

    @property
    def quorum_lost(self) -> str | None:
        """Why this leader is not to be trusted, or None while a majority of the managers
        is reachable. A leader without quorum still answers /nodes and /tasks from its
        store (for ~20 s, until Raft steps it down): what it says is not the Swarm's."""
        managers = [n for n in self.nodes if n.reachability is not None]
        unreachable = sum(1 for n in managers if n.reachability == "unreachable")
        if managers and len(managers) - unreachable <= len(managers) // 2:
            return f"quorum lost: {unreachable} of {len(managers)} managers unreachable"
        return None


class LeaderSeen(NamedTuple):
    """The leader as a manager sees it in /nodes: its Swarm node ID and host name."""

    id: str
    hostname: str


def leader_in(nodes: list[dict[str, Any]]) -> LeaderSeen | None:
    """The node /nodes marks as leader, if any."""
    for n in nodes:
        if (n.get("ManagerStatus") or {}).get("Leader") is True and isinstance(n.get("ID"), str):
            hostname = (n.get("Description") or {}).get("Hostname")
            return LeaderSeen(n["ID"], hostname if isinstance(hostname, str) else n["ID"])
    return None


@dataclass(frozen=True)
class SwarmReading:
    """One reading of Docker. ok=False means error says why, in one line.
    tasks_by_service None: this engine's tasks could not be counted (unknown, not 0)."""

    ok: bool
    error: str | None = None
    role: Role = "none"
    leader: bool = False
    node_id: str | None = None
    hostname: str | None = None
    tasks_by_service: Mapping[str, int] | None = field(default_factory=dict)
    own_tasks: int = 0  # of the tasks counted, the gauge's own stack's (not strain)
    cluster: ClusterReading | None = None
    # a manager's word on who leads (the gauge trusts the cluster state of the node a
    # majority of managers name); None on workers, and where /nodes did not answer
    sees_leader: LeaderSeen | None = None

    @property
    def tasks_running(self) -> int | None:
        if self.tasks_by_service is None:
            return None
        return sum(self.tasks_by_service.values())

    @property
    def workload_tasks(self) -> int | None:
        """The running tasks that are strain: all but the gauge's own stack's."""
        running = self.tasks_running
        return None if running is None else max(running - self.own_tasks, 0)


class EngineTasks(NamedTuple):
    """The Swarm tasks an engine runs: by service, and how many are the gauge's own."""

    by_service: dict[str, int]
    own: int


def local_tasks(containers: list[dict[str, Any]], stack: str | None = None) -> EngineTasks:
    """Running Swarm tasks on this engine by service, from GET /containers/json; own:
    those of the stack named `stack` (the gauge's own; None: none are)."""
    counts: Counter[str] = Counter()
    own = 0
    for c in containers:
        labels = c.get("Labels") or {}
        if c.get("State", "running") == "running" and TASK_LABEL in labels:
            counts[labels.get(SERVICE_LABEL) or "unknown"] += 1
            own += stack is not None and labels.get(STACK_LABEL) == stack
    return EngineTasks(dict(sorted(counts.items())), own)


def _service_mode(spec_mode: Mapping[str, Any]) -> str:
    for key, name in (
        ("Replicated", "replicated"),
        ("Global", "global"),
        ("ReplicatedJob", "replicated-job"),
        ("GlobalJob", "global-job"),
    ):
        if key in spec_mode:
            return name
    return "unknown"


def cluster_view(
    nodes: list[dict[str, Any]],
    services: list[dict[str, Any]],
    tasks: list[dict[str, Any]],
    stack: str | None = None,
    overdue: Collection[str] = (),
) -> ClusterReading:
    """The cluster from GET /nodes, /services?status=true and /tasks (desired-state=running).

    A task counts as running only when its desired and current state are running
    and its node is not known to be down: ServiceStatus.RunningTasks keeps counting
    tasks on a node that is already down. A node `unknown` (every node, for a few
    seconds after a new leader takes over, until it hears from them) is not down:
    its tasks count as they were last reported, or a failover would look like a
    mass outage that no engine shows.

    stack: the gauge's own stack's name: its services are `own`, and so are their tasks
    on each node (counted, but not strain).

    A task `starting` (up, its healthcheck not yet passed) is on its way, not missing,
    unless its service's ID is in `overdue` (short for too long: say, a healthcheck
    that never passes). `why` is said of a missing task first: Swarm's reason beats "starting".
    """
    ready = {n["ID"] for n in nodes if node_is_up(n.get("Status", {}).get("State"))}
    own_services = {
        s["ID"]
        for s in services
        if stack is not None
        and ((s.get("Spec") or {}).get("Labels") or {}).get(STACK_LABEL) == stack
    }
    running_by_service: Counter[str] = Counter()
    starting_by_service: Counter[str] = Counter()
    running_by_node: Counter[str] = Counter()
    own_by_node: Counter[str] = Counter()
    desired_by_service: Counter[str] = Counter()
    why_by_service: dict[str, str] = {}
    why_is_starting: set[str] = set()  # services whose `why` is only a task starting
    for t in tasks:
        if t.get("DesiredState") != "running":
            continue
        service = t.get("ServiceID", "")
        desired_by_service[service] += 1
        if t.get("Status", {}).get("State") == "running" and t.get("NodeID") in ready:
            running_by_service[service] += 1
            running_by_node[t["NodeID"]] += 1
            own_by_node[t["NodeID"]] += service in own_services
            continue
        on_its_way = (
            t.get("Status", {}).get("State") == "starting"
            and t.get("NodeID") in ready
            and service not in overdue
        )
        starting_by_service[service] += on_its_way
        if service not in why_by_service or (service in why_is_starting and not on_its_way):
            why_by_service[service] = task_why(t, ready)
            if on_its_way:
                why_is_starting.add(service)
            else:
                why_is_starting.discard(service)

    cluster_services = []
    for s in services:
        spec = s.get("Spec", {})
        mode = _service_mode(spec.get("Mode", {}))
        status = s.get("ServiceStatus")
        if status is not None:
            desired = int(status.get("DesiredTasks", 0))
        elif mode == "replicated":  # engines older than API 1.41 have no ServiceStatus
            desired = int(spec["Mode"]["Replicated"].get("Replicas", 0))
        else:
            desired = desired_by_service[s["ID"]]
        cluster_services.append(
            ClusterService(
                name=spec.get("Name", s["ID"]),
                mode=mode,
                desired=desired,
                running=running_by_service[s["ID"]],
                why=why_by_service.get(s["ID"]) if running_by_service[s["ID"]] < desired else None,
                own=s["ID"] in own_services,
                starting=starting_by_service[s["ID"]],
            )
        )

    cluster_nodes = [
        ClusterNode(
            id=n["ID"],
            name=n.get("Description", {}).get("Hostname") or n["ID"],
            role=n.get("Spec", {}).get("Role", "worker"),
            state=n.get("Status", {}).get("State", "unknown"),
            availability=n.get("Spec", {}).get("Availability", "unknown"),
            leader=bool((n.get("ManagerStatus") or {}).get("Leader", False)),
            tasks_running=running_by_node[n["ID"]],
            reachability=(n.get("ManagerStatus") or {}).get("Reachability") or None,
            own_tasks=own_by_node[n["ID"]],
        )
        for n in nodes
    ]
    return ClusterReading(
        nodes=tuple(sorted(cluster_nodes, key=lambda n: (n.name, n.id))),
        services=tuple(sorted(cluster_services, key=lambda s: s.name)),
    )


def cluster_key(
    nodes: list[dict[str, Any]], services: list[dict[str, Any]]
) -> tuple[Any, ...] | None:
    """What changes whenever the tasks may have: each node's and service's version and
    each service's task counts as Swarm keeps them (/services?status=true). None where
    the services carry no counts (engines before API 1.41): nothing is known unchanged."""
    statuses: list[dict[str, Any]] = []
    for s in services:
        status = s.get("ServiceStatus")
        if not isinstance(status, dict):
            return None
        statuses.append(status)
    return (
        sorted((str(n.get("ID")), int((n.get("Version") or {}).get("Index") or 0)) for n in nodes),
        sorted(
            (
                str(s.get("ID")),
                int((s.get("Version") or {}).get("Index") or 0),
                int(status.get("RunningTasks") or 0),
                int(status.get("DesiredTasks") or 0),
                int(status.get("CompletedTasks") or 0),
            )
            for s, status in zip(services, statuses, strict=True)
        ),
    )


UP_STATES = ("ready", "unknown")
MAX_WHY = 200


def task_why(task: Mapping[str, Any], ready: set[str]) -> str:
    """One line on why a task Swarm wants running is not counted as running: Swarm's
    own error or message ("no suitable node (scheduling constraints not satisfied on 3
    nodes)"), else its state."""
    status = task.get("Status") or {}
    state = str(status.get("State") or "unknown")
    if state == "running" and task.get("NodeID") not in ready:
        return "running on a node that is down"
    said = str(status.get("Err") or status.get("Message") or "").strip()
    line = f"{state}: {said}" if said and said != state else state
    return line.splitlines()[0][:MAX_WHY] if line else state


def node_is_up(state: object) -> bool:
    """Whether a node in this Swarm state counts: ready, or unknown (not known down)."""
    return state in UP_STATES


def tasks_on_node(
    services: list[dict[str, Any]], tasks: list[dict[str, Any]], node_id: str | None
) -> dict[str, int]:
    """Running tasks on one node by service name, from the manager's task list."""
    names = {s["ID"]: s.get("Spec", {}).get("Name", s["ID"]) for s in services}
    counts: Counter[str] = Counter(
        names.get(t.get("ServiceID", ""), "unknown")
        for t in tasks
        if t.get("NodeID") == node_id
        and t.get("DesiredState") == "running"
        and t.get("Status", {}).get("State") == "running"
    )
    return dict(sorted(counts.items()))
