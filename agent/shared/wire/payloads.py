"""The payloads of the MQTT contract and their strict parsers: a node's state, the
leader's cluster state and the gauge's state (schema 1; the JSON Schemas in schemas/
describe them). Pure: bytes in, plain data out.

Every byte comes from the network: a payload over its bound, not JSON, nested too
deep, of another schema, with wrong types or counts out of range is Rejected with a
short reason (one of REASONS), and every text that reaches a page, a log or a
terminal is made printable.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from agent.shared.wire.names import safe_name
from agent.shared.wire.topics import OFFLINE, ONLINE

MAX_PAYLOAD = 64 * 1024
MAX_CLUSTER_PAYLOAD = 4 * 1024 * 1024  # a cluster state names every node and service
MAX_COUNT = 1_000_000  # tasks; Swarm's own limits are far below
MAX_CLUSTER_NODES = 10_000
MAX_CLUSTER_SERVICES = 10_000
# The gauge state's node counts: each node in exactly one state (gauge/summary.py)
NODE_STATES = ("offline", "stale", "down", "left", "online")
NODE_STATE_COUNTS = ("total", *NODE_STATES)
MAX_REASON = 4096  # totals_unknown: the gauge's reason, with up to 3 managers' own


# Why messages are dropped, as the gauge counts them (a label in /metrics: a fixed set)
REASONS = (
    "topic", "too_large", "not_json", "schema", "invalid", "too_many_nodes", "old",
    "not_leader", "future", "bug",
)  # fmt: skip


class Rejected(ValueError):
    """A message that is dropped; str() says why in a few words, reason which of
    REASONS it is."""

    def __init__(self, message: str, reason: str = "invalid") -> None:
        if reason not in REASONS:  # /metrics counts by reason: a fixed set of labels
            raise ValueError(f"no such reason: {reason}")
        super().__init__(message)
        self.reason = reason


@dataclass
class NodeState:
    """What a node's state says (the parts the gauge uses)."""

    strain: float = 0.0
    tasks_running: int | None = 0  # None: its agent could not count them
    own_tasks: int = 0  # of tasks_running, the gauge's own stack's (not strain)
    leds: list[list[float]] | None = None
    cpu_percent: float | None = None  # None: the state had no host part
    memory_percent: float | None = None
    sampled_at: float | None = None  # the node's wall-clock seconds, from the payload's `time`
    role: str = "none"
    leader: bool = False
    interval_s: float | None = None  # how often its agent samples (and a leader publishes)
    docker_ok: bool = False
    docker_error: str | None = None
    node_id: str | None = None  # the Swarm node ID, where the agent knows it
    sees_leader: str | None = None  # a manager's word: the (safe) host name it sees lead
    identify: bool = False  # its LEDs flash white now (asked on its identify topic)


@dataclass(frozen=True)
class SwarmNode:
    """A node as the leader's cluster state describes it."""

    state: str  # ready / down / unknown / disconnected
    availability: str  # active / pause / drain
    role: str
    reachability: str | None = None  # a manager's: reachable / unreachable / unknown

    @property
    def down(self) -> bool:
        """Swarm marks it down, or it is a manager the leader cannot reach."""
        return self.state not in ("ready", "unknown") or self.reachability == "unreachable"


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    mode: str
    desired: int
    running: int
    why: str | None  # where tasks are missing: what Swarm says of one
    own: bool = False  # the gauge's own stack's: counted, not strain

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "mode": self.mode,
            "desired": self.desired,
            "running": self.running,
            "why": self.why,
            "own": self.own,
        }


@dataclass
class ClusterState:
    """What the leader's cluster state says."""

    desired: int | None  # None with `unknown`: the leader has lost quorum
    running: int | None
    sampled_at: float
    publisher: str  # the node whose topic it came on
    own_desired: int = 0  # of desired and running, the gauge's own stack's (not strain)
    own_running: int = 0
    missing: float | None = None  # the leader's strain.missing: workload tasks short
    nodes: dict[str, SwarmNode] = field(default_factory=dict)  # by safe name and by ID
    services: tuple[ServiceEntry, ...] = ()
    unknown: str | None = None  # why the publisher gives no totals

    def node(self, name: str, node_id: str | None) -> SwarmNode | None:
        """The leader's word on a node: by Swarm ID, else by name (--node-name may differ)."""
        found = self.nodes.get(f"id:{node_id}") if node_id else None
        return found or self.nodes.get(name)


@dataclass(frozen=True)
class GaugeState:
    """What the gauge's state says: the whole cluster in a few numbers."""

    sampled_at: float
    strain: float | None  # None: nothing known
    desired: int | None  # None while the totals are unknown (never 0 for unknown)
    running: int | None
    totals_unknown: str | None
    alarm: bool
    nodes: dict[str, int]  # NODE_STATE_COUNTS


N = TypeVar("N", bound=NodeState)
C = TypeVar("C", bound=ClusterState)


def _number(value: Any, low: float, high: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise Rejected(f"{what} is not a number from {low:g} to {high:g}")
    return float(value)


def _count(value: Any, what: str) -> int:
    """A whole number from 0 to MAX_COUNT: bigger ones overflow a float in the strain."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise Rejected(f"{what} is not a count from 0 to {MAX_COUNT}")
    return value


def _text(value: Any, what: str, limit: int = 64) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise Rejected(f"{what} is not a text of 1 to {limit} characters")
    return printable(value)


def printable(text: str) -> str:
    """text with every control and format character (escape sequences for a terminal,
    bidi overrides that reorder a banner) shown as U+FFFD: texts from the network reach
    the page, the log and participants' terminals."""
    if text.isprintable():  # the usual case, in C: no character of category C in it
        return text
    return "".join("\ufffd" if unicodedata.category(c)[0] == "C" else c for c in text)


def _maybe_text(value: Any, what: str, limit: int = 200) -> str | None:
    return None if value is None else _text(value, what, limit)


def iso_utc(now: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z: 2026-11-27T23:30:19.601Z."""
    return now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _time(value: Any) -> float:
    """Seconds since the epoch from an ISO 8601 time with a zone (the payload's `time`)."""
    if not isinstance(value, str) or len(value) > 40:
        raise Rejected("time is not an ISO 8601 text")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Rejected("time is not an ISO 8601 text") from None
    if parsed.tzinfo is None:
        raise Rejected("time has no zone")
    return parsed.timestamp()


def _load_json(payload: bytes, limit: int = MAX_PAYLOAD) -> Any:
    if len(payload) > limit:
        raise Rejected(f"payload over {limit // 1024} KiB", "too_large")
    try:
        return json.loads(payload)
    except RecursionError:  # [[[[… nested deeper than the parser's stack
        raise Rejected("JSON nested too deep", "not_json") from None
    except (ValueError, UnicodeDecodeError):
        raise Rejected("not JSON", "not_json") from None


def _schema1(payload: bytes, what: str, limit: int = MAX_PAYLOAD) -> dict[str, Any]:
    state = _load_json(payload, limit)
    if not isinstance(state, dict) or state.get("schema") != 1:
        raise Rejected(f"not a {what} of schema 1", "schema")
    return state


def is_offline(payload: bytes) -> bool:
    """An availability payload: online (False) or offline (True); Rejected otherwise."""
    if payload == OFFLINE.encode():
        return True
    if payload == ONLINE.encode():
        return False
    raise Rejected("availability is neither online nor offline")


def parse_node_state(payload: bytes, node: str, into: type[N]) -> N:
    """The parts of a node state (schema 1) from node's topic the gauge uses, as an
    `into` (NodeState or a class that adds to it); Rejected if it is not one."""
    state = _schema1(payload, "node state")
    if state.get("node") != node:
        raise Rejected("node name differs from the topic's")
    strain, tasks, docker = state.get("strain"), state.get("tasks"), state.get("docker")
    if not isinstance(strain, dict) or not isinstance(tasks, dict):
        raise Rejected("strain or tasks missing")
    if not isinstance(docker, dict) or not isinstance(docker.get("ok"), bool):
        raise Rejected("docker.ok missing")
    error = docker.get("error")
    if error is not None and not isinstance(error, str):
        raise Rejected("docker.error is not a text")
    role = state.get("role")
    if role not in ("manager", "worker", "none"):
        raise Rejected("role is not manager, worker or none")
    host = state.get("host")
    if host is not None and not isinstance(host, dict):
        raise Rejected("host is not an object")
    cpu = memory = None
    if host is not None:
        cpu = _number(host.get("cpu_percent"), 0, 100, "host.cpu_percent")
        memory = _number(host.get("memory_percent"), 0, 100, "host.memory_percent")
    leds = state.get("leds")
    if leds is not None:
        if not isinstance(leds, list) or len(leds) != 8:
            raise Rejected("leds is not 8 pixels")
        for pixel in leds:
            if not isinstance(pixel, list) or len(pixel) != 4:
                raise Rejected("a pixel is not [r, g, b, brightness]")
            for channel in pixel[:3]:
                _number(channel, 0, 255, "a colour")
            _number(pixel[3], 0, 1, "a brightness")
    return into(
        strain=_number(strain.get("value"), 0, 1, "strain.value"),
        tasks_running=(
            None if (running := tasks.get("running")) is None else _count(running, "tasks.running")
        ),
        own_tasks=min(_count(tasks.get("own", 0), "tasks.own"), running or 0),
        leds=leds,
        cpu_percent=cpu,
        memory_percent=memory,
        sampled_at=_time(state.get("time")),
        role=role,
        leader=state.get("leader") is True,
        interval_s=(
            None
            if (interval := state.get("interval_s")) is None
            else _number(interval, 0.01, 86400, "interval_s")
        ),
        docker_ok=docker["ok"],
        docker_error=printable(error[:200]) if error else None,
        node_id=_text(node_id, "node_id") if (node_id := state.get("node_id")) else None,
        sees_leader=_leader_seen(state.get("swarm_leader")),
        identify=_flag(state.get("identify", False), "identify"),
    )


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise Rejected(f"{what} is not true or false")
    return value


def _leader_seen(seen: Any) -> str | None:
    """The safe name of the node a manager names leader (swarm_leader), or None."""
    if seen is None:
        return None
    if not isinstance(seen, dict):
        raise Rejected("swarm_leader is not an object")
    _text(seen.get("id"), "swarm_leader.id")
    return safe_name(_text(seen.get("hostname"), "swarm_leader.hostname", 256))


def parse_cluster_state(payload: bytes, node: str, into: type[C]) -> C:
    """What the gauge uses of the leader's cluster state (schema 1), from node's topic,
    as an `into` (ClusterState or a class that adds to it)."""
    state = _schema1(payload, "cluster state", MAX_CLUSTER_PAYLOAD)
    totals = state.get("totals")
    if not isinstance(totals, dict):
        raise Rejected("totals missing")
    if state.get("publisher", node) != node:
        raise Rejected("publisher differs from the topic's node")
    nodes = state.get("nodes", [])
    if not isinstance(nodes, list) or len(nodes) > MAX_CLUSTER_NODES:
        raise Rejected("nodes is not a list of nodes")
    swarm_nodes: dict[str, SwarmNode] = {}
    for n in nodes:
        if not isinstance(n, dict):
            raise Rejected("a node is not an object")
        swarm_node = SwarmNode(
            state=_text(n.get("state"), "a node's state", 32),
            availability=_text(n.get("availability"), "a node's availability", 32),
            role=_text(n.get("role"), "a node's role", 32),
            reachability=_maybe_text(n.get("reachability"), "a node's reachability", 32),
        )
        swarm_nodes[safe_name(_text(n.get("name"), "a node's name", 256))] = swarm_node
        swarm_nodes[f"id:{_text(n.get('id'), 'a node id')}"] = swarm_node
    unknown = _maybe_text(state.get("totals_unknown"), "totals_unknown")
    desired, running = totals.get("desired"), totals.get("running")
    own_desired = own_running = 0
    missing = None
    if unknown is None or desired is not None or running is not None:
        desired = _count(desired, "totals.desired")
        running = _count(running, "totals.running")
        strain = state.get("strain")
        if not isinstance(strain, dict):
            raise Rejected("strain missing")
        missing = _number(strain.get("missing"), 0, 1, "strain.missing")
        own_desired = min(_count(totals.get("own_desired") or 0, "totals.own_desired"), desired)
        own_running = min(_count(totals.get("own_running") or 0, "totals.own_running"), running)
    return into(
        desired=desired,
        running=running,
        own_desired=own_desired,
        own_running=own_running,
        missing=missing,
        sampled_at=_time(state.get("time")),
        publisher=node,
        nodes=swarm_nodes,
        services=_services(state.get("services", [])),
        unknown=unknown,
    )


def _services(services: Any) -> tuple[ServiceEntry, ...]:
    if not isinstance(services, list) or len(services) > MAX_CLUSTER_SERVICES:
        raise Rejected("services is not a list of services")
    parsed = []
    for s in services:
        if not isinstance(s, dict):
            raise Rejected("a service is not an object")
        parsed.append(
            ServiceEntry(
                name=_text(s.get("name"), "a service's name", 256),
                mode=_text(s.get("mode"), "a service's mode", 32),
                desired=_count(s.get("desired"), "a service's desired"),
                running=_count(s.get("running"), "a service's running"),
                why=_maybe_text(s.get("why"), "a service's why"),
                own=s.get("own") is True,
            )
        )
    return tuple(parsed)


def parse_gauge_state(payload: bytes) -> GaugeState:
    """The gauge's state (schema 1); Rejected if it is not one. Unknown stays None."""
    state = _schema1(payload, "gauge state")
    strain, desired, running = state.get("strain"), state.get("desired"), state.get("running")
    unknown = _maybe_text(state.get("totals_unknown"), "totals_unknown", MAX_REASON)
    if not isinstance(state.get("alarm"), bool):
        raise Rejected("alarm is not true or false")
    nodes = state.get("nodes")
    if not isinstance(nodes, dict):
        raise Rejected("nodes is not an object")
    return GaugeState(
        sampled_at=_time(state.get("time")),
        strain=None if strain is None else _number(strain, 0, 1, "strain"),
        desired=None if desired is None else _count(desired, "desired"),
        running=None if running is None else _count(running, "running"),
        totals_unknown=unknown,
        alarm=state["alarm"],
        nodes={k: _count(nodes.get(k), f"nodes.{k}") for k in NODE_STATE_COUNTS},
    )
