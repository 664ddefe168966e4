"""The cluster as the gauge sees it: the newest state of every node, kept from MQTT.

Pure apart from the clocks, which are passed in. Bad input on any topic (not JSON,
nested too deep, wrong types, counts out of range, schema ≠ 1, over 64 KiB,
unexpected topics) is rejected with a short reason and never changes another node's
state.

Truth under faults (see the README's "Reliability"):
- Age is the time since the sample, on the gauge's clock: each node's clock offset is
  measured from its live messages (gauge.clocks), so a live message held back by a
  half-dead link is aged by when it was sampled, and a Pi whose clock is off is
  neither fresh forever nor stale at once. A retained state from a node not yet heard
  live is judged by the gauge's wall clock (tolerating `clock_skew_s`); one dated in
  the future has no known age: stale until a live one comes.
- Newest sample wins: a state never replaces a newer one from the same node, nor a
  cluster state a newer one from any publisher.
- A cluster state counts only where a majority of its managers (those it lists, and
  those that say so and are not listed) name its publisher leader in their own states
  (`swarm_leader`), and that publisher's own state says it leads; it comes on the
  publisher's own topic (<prefix>/node/<node>/cluster: the broker's ACL proves who
  wrote it, and with SWARMGAUGE_MANAGERS only managers may). Two that pass is a
  conflict: no totals. A worker's, or one from a node while the managers back
  another, is Rejected ("not_leader"), as is a live one dated ahead of its
  publisher's clock ("future").
- The leader's cluster state gives the totals only while it is fresh, its publisher
  is online, still leads, still reads the Swarm, and has quorum; otherwise
  `desired`/`running` are null and `totals_unknown` says why. Unknown is never 0.
- A node Swarm marks down, or a manager the leader cannot reach, is down, whatever
  its agent still publishes.
"""

from __future__ import annotations

import json
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.shared.names import is_node_name, safe_name
from agent.strain import combined_strain
from gauge.clocks import NodeClock

MAX_PAYLOAD = 64 * 1024
MAX_CLUSTER_PAYLOAD = 4 * 1024 * 1024  # a cluster state names every node and service
SWARM_WORD_MAX_AGE_S = 120.0  # the leader's last word on a node, kept through an election
MAX_COUNT = 1_000_000  # tasks; Swarm's own limits are far below
MAX_CLUSTER_NODES = 10_000
MAX_CLUSTER_SERVICES = 10_000
DEFAULT_MAX_NODES = 1024
DEFAULT_FORGET_AFTER_S = 3600.0
DEFAULT_CLOCK_SKEW_S = 2.0
MAX_CLUSTER_CANDIDATES = 8  # cluster states held, one per publisher (Swarm advises ≤ 7 managers)


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
class NodeEntry:
    strain: float = 0.0
    tasks_running: int | None = 0  # None: its agent could not count them
    own_tasks: int = 0  # of tasks_running, the gauge's own stack's (not strain)
    leds: list[list[float]] | None = None
    cpu_percent: float | None = None  # None: the state had no host part
    memory_percent: float | None = None
    sampled_at: float | None = None  # the node's wall-clock seconds, from the payload's `time`
    sampled_local: float | None = None  # the same moment on the gauge's monotonic clock
    received_s: float | None = None  # monotonic clock of the newest valid state
    offline: bool = False  # availability said "offline"
    role: str = "none"
    leader: bool = False
    interval_s: float | None = None  # how often its agent samples (and a leader publishes)
    docker_ok: bool = False
    docker_error: str | None = None
    node_id: str | None = None  # the Swarm node ID, where the agent knows it
    sees_leader: str | None = None  # a manager's word: the (safe) host name it sees lead
    retained: bool = False  # delivered from the broker's store, not live
    seen_s: float = 0.0  # monotonic clock of the newest message of any kind
    clock: NodeClock = field(default_factory=NodeClock)  # kept from state to state
    reconnected: bool = False  # its agent connected anew since this state


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
class ClusterEntry:
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
    sampled_local: float | None = None  # the sample time on the gauge's monotonic clock
    received_s: float = 0.0
    retained: bool = False

    def node(self, name: str, node_id: str | None) -> SwarmNode | None:
        """The leader's word on a node: by Swarm ID, else by name (--node-name may differ)."""
        found = self.nodes.get(f"id:{node_id}") if node_id else None
        return found or self.nodes.get(name)


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


def parse_node_state(payload: bytes, node: str) -> NodeEntry:
    """The parts of a node state (schema 1) the gauge uses; Rejected if it is not one."""
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
    return NodeEntry(
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
    )


def _leader_seen(seen: Any) -> str | None:
    """The safe name of the node a manager names leader (swarm_leader), or None."""
    if seen is None:
        return None
    if not isinstance(seen, dict):
        raise Rejected("swarm_leader is not an object")
    _text(seen.get("id"), "swarm_leader.id")
    return safe_name(_text(seen.get("hostname"), "swarm_leader.hostname", 256))


def parse_cluster_state(payload: bytes, node: str) -> ClusterEntry:
    """What the gauge uses of the leader's cluster state (schema 1), from node's topic."""
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
    return ClusterEntry(
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


class ClusterView:
    """Every node's newest state, and the leader's view of the cluster.

    clock: monotonic seconds (arrival ages); wall: seconds since the epoch, to judge
    the sample times in the payloads, with clock_skew_s of tolerance between hosts.
    """

    def __init__(
        self,
        prefix: str,
        stale_after_s: float,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        clock_skew_s: float = DEFAULT_CLOCK_SKEW_S,
        max_nodes: int = DEFAULT_MAX_NODES,
        forget_after_s: float = DEFAULT_FORGET_AFTER_S,
    ) -> None:
        self.prefix = prefix
        self.max_nodes = max_nodes
        self.forget_after_s = forget_after_s
        self.stale_after_s = stale_after_s
        self.clock = clock
        self.wall = wall
        self.clock_skew_s = clock_skew_s
        # least recently heard first: the silent are forgotten first
        self.nodes: OrderedDict[str, NodeEntry] = OrderedDict()
        self._pending: OrderedDict[str, bool] = OrderedDict()  # availability, no state yet
        # the newest cluster state of each node that may lead, until a majority names one
        self.clusters: OrderedDict[str, ClusterEntry] = OrderedDict()
        self.cluster: ClusterEntry | None = None  # the last one trusted: the Swarm's word

    def apply(self, topic: str, payload: bytes, retained: bool = False) -> None:
        """Take one message in; Rejected (and nothing changed) if it is not for us.

        retained: the broker sent it from its store (MQTT's retain flag on delivery):
        its age is judged by its sample time, not by its (late) arrival."""
        parts = topic.split("/")
        head = self.prefix.split("/")
        rest = parts[len(head) :] if parts[: len(head)] == head else []
        if len(rest) != 3 or rest[0] != "node" or not is_node_name(rest[1]):
            raise Rejected("unexpected topic", "topic")
        node, kind = rest[1], rest[2]
        if kind == "cluster":
            if payload:
                self._apply_cluster(node, parse_cluster_state(payload, node), retained)
            else:  # its retained cluster state cleared
                self.clusters.pop(node, None)
            return
        now = self.clock()
        if kind == "availability":
            if payload not in (b"online", b"offline"):
                raise Rejected("availability is neither online nor offline")
            offline = payload == b"offline"
            if node in self.nodes:
                entry = self.nodes[node]
                entry.offline = offline
                entry.seen_s = now
                if not offline and not retained:
                    # a new connection (a restart, a reboot): no backlog crosses it, and
                    # the node's clock may have been set since, even back
                    entry.clock, entry.reconnected = NodeClock(), True
                self.nodes.move_to_end(node)
            else:  # kept aside, unshown, until the node's first state
                self._pending[node] = offline
                self._pending.move_to_end(node)
                while len(self._pending) > self.max_nodes:
                    self._pending.popitem(last=False)
            return
        if kind != "state":
            raise Rejected("unexpected topic", "topic")
        entry = parse_node_state(payload, node)
        old = self.nodes.get(node)
        if (
            old is not None
            and not old.reconnected
            and old.sampled_at is not None
            and entry.sampled_at is not None
        ):
            if entry.sampled_at == old.sampled_at and (retained or not old.retained):
                return  # the same state again (retained, on a reconnect)
            if entry.sampled_at < old.sampled_at and self._age(old, now) <= self.stale_after_s:
                raise Rejected("older than the state held (a replay)", "old")
        if old is None:
            self._make_room(now)
            entry.offline = self._pending.pop(node, False)
        else:
            entry.offline = old.offline
            entry.clock = old.clock
        assert entry.sampled_at is not None
        if not retained:
            entry.clock.add(now, entry.sampled_at)
        entry.sampled_local = self._local_time(entry.clock, entry.sampled_at, now, retained)
        entry.received_s = entry.seen_s = now
        entry.retained = retained
        self.nodes[node] = entry
        self.nodes.move_to_end(node)

    def _apply_cluster(self, node: str, cluster: ClusterEntry, retained: bool) -> None:
        """Hold a cluster state from node's topic, unless that node cannot be the leader
        (its own state says worker, or the managers name another) or it is dated ahead of
        its publisher's clock; within one publisher the newest sample wins. Which one
        counts is decided when it is used (_trust): the managers' word changes too."""
        now = self.clock()
        publisher = self.nodes.get(node)
        if (
            publisher is not None
            and publisher.role != "manager"
            and not self._stale(publisher, now)
        ):
            raise Rejected(f"a cluster state from {node}, whose own state says {publisher.role}",
                           "not_leader")  # fmt: skip
        # one the managers do not back, while they back another's (if both are backed,
        # both are kept: a conflict _trust reports, never a forger's way to push the
        # real leader's state out)
        other = next(
            (c for p, c in self.clusters.items() if p != node and self._backed(c, now)), None
        )
        if other is not None and not self._backed(cluster, now):
            raise Rejected(f"a cluster state from {node}; the managers name {other.publisher}"
                           " leader", "not_leader")  # fmt: skip
        if not retained:
            local = publisher.clock.local(cluster.sampled_at) if publisher is not None else None
            if local is None:
                ahead = cluster.sampled_at - self.wall()
            else:
                ahead = local - now
            if ahead > self.clock_skew_s:
                raise Rejected(f"a cluster state dated {ahead:.0f} s ahead of {node}'s clock",
                               "future")  # fmt: skip
        cluster.sampled_local = self._local_time(
            publisher.clock if publisher else None, cluster.sampled_at, now, retained
        )
        cluster.received_s = now
        cluster.retained = retained
        own = self.clusters.get(node)
        if own is not None:
            if cluster.sampled_at == own.sampled_at:
                return  # the same state again
            if cluster.sampled_at < own.sampled_at and self._age(own, now) <= self.stale_after_s:
                raise Rejected("older than the cluster state held (a replay)", "old")
        self.clusters[node] = cluster
        self.clusters.move_to_end(node)
        while len(self.clusters) > MAX_CLUSTER_CANDIDATES:
            self.clusters.popitem(last=False)

    def _stale(self, entry: NodeEntry, now: float) -> bool:
        return entry.offline or self._age(entry, now) > self._cluster_fresh_for(entry)

    def _reporting(self, name: str, now: float) -> NodeEntry | None:
        """The node's state, if it is a manager's that reports now: fresh, online, its
        dockerd answering (one whose tasks are unknown is no working manager now). One
        that cannot tell who leads (an election, quorum lost) reports and names no one."""
        entry = self.nodes.get(name)
        if entry is None or entry.role != "manager" or entry.tasks_running is None:
            return None
        return None if self._stale(entry, now) else entry

    def _backing(self, candidate: ClusterEntry, now: float) -> tuple[int, int]:
        """(managers naming its publisher leader, managers reporting) among its electorate:
        the managers its own node list names, and the nodes that say they are managers
        where it does not list them at all. A node it lists as a worker has no vote: in
        one forged by a worker the real managers would be "workers", so the real
        leader's state passes too, and two that pass is a conflict (_trust)."""
        electorate = {n for n, said in candidate.nodes.items() if said.role == "manager"}
        listed = set(candidate.nodes)
        electorate |= {n for n, e in self.nodes.items() if e.role == "manager" and n not in listed}
        reporting = [e for n in electorate if (e := self._reporting(n, now)) is not None]
        votes = sum(1 for e in reporting if e.sees_leader == candidate.publisher)
        return votes, len(reporting)

    def _backed(self, candidate: ClusterEntry, now: float) -> bool:
        """A majority of its managers name its publisher, whose own state says it leads."""
        votes, reporting = self._backing(candidate, now)
        publisher = self.nodes.get(candidate.publisher)
        return 2 * votes > reporting and publisher is not None and publisher.leader

    def _trust(self, now: float) -> str | None:
        """Take the cluster state that a majority of its managers back (see _backing);
        else why not (the last one trusted stays the Swarm's word on nodes, aging)."""
        backed = [c for c in self.clusters.values() if self._backed(c, now)]
        if len(backed) == 1:
            self.cluster = backed[0]
            return None
        if backed:
            names = ", ".join(sorted(c.publisher for c in backed))
            return f"{len(backed)} nodes each claim to lead with their managers' word: {names}"
        best = max(
            ((self._backing(c, now), c.publisher) for c in self.clusters.values()), default=None
        )
        if best is None:
            return "no cluster state from a Swarm leader's agent yet"
        (votes, reporting), publisher = best
        if reporting == 0:
            return "no manager's agent says whom it sees lead the Swarm"
        return (
            f"no leader named by a majority of the {reporting} managers reporting "
            f"({publisher}: {votes})"
        )

    def _local_time(
        self, clock: NodeClock | None, sampled_at: float, arrival: float, retained: bool
    ) -> float | None:
        """When a message was sampled, on the gauge's monotonic clock; None: unknown."""
        local = clock.local(sampled_at) if clock is not None else None
        if local is not None:
            if retained and local > arrival + self.clock_skew_s:
                return None  # its clock was set since: dated in the future, age unknown
            return min(local, arrival)
        if not retained:
            return arrival  # live, from a clock not measured yet
        # retained, from a node not heard live yet: by the gauge's wall clock
        ahead = sampled_at - self.wall()
        if ahead > self.clock_skew_s:
            return None  # dated in the future: its age is unknown until a live one comes
        return arrival - max(-ahead - self.clock_skew_s, 0.0)

    def _make_room(self, now: float) -> None:
        """Room for one more node: the one silent longest goes if it is stale or offline;
        while every node is live, a new name is Rejected (a spray of names cannot push
        honest nodes out)."""
        if len(self.nodes) < self.max_nodes:
            return
        name, oldest = next(iter(self.nodes.items()))
        if oldest.offline or now - (oldest.received_s or 0.0) > self.stale_after_s:
            del self.nodes[name]
            return
        raise Rejected(f"more than {self.max_nodes} live nodes (--max-nodes)", "too_many_nodes")

    def forget_silent(self) -> None:
        """Forget nodes not heard from for forget_after_s (cheap: oldest first)."""
        now = self.clock()
        while self.nodes:
            oldest = next(iter(self.nodes.values()))
            if now - oldest.seen_s <= self.forget_after_s:
                return
            self.nodes.popitem(last=False)

    def _age(self, entry: NodeEntry | ClusterEntry, now: float) -> float:
        """Seconds since the sample, on the gauge's clock; infinite where unknown."""
        if entry.sampled_local is None:
            return float("inf")
        return max(now - entry.sampled_local, 0.0)

    def _word_is_recent(self, now: float) -> bool:
        c = self.cluster
        return c is not None and self._age(c, now) <= max(SWARM_WORD_MAX_AGE_S, self.stale_after_s)

    def _totals_unknown(self, now: float) -> str | None:
        """Why the leader's totals cannot be used now; None while they can."""
        untrusted = self._trust(now)
        # none trusted yet: what is wrong with the newest one held says most
        c = self.cluster or (next(reversed(self.clusters.values())) if self.clusters else None)
        if c is None:
            why = "no cluster state from a Swarm leader's agent yet"
            return "; ".join([why, *self._manager_troubles()])
        # what is wrong with the last one trusted says most; else why it is not trusted now
        age = self._age(c, now)
        publisher = self.nodes.get(c.publisher)
        if age == float("inf"):
            why = "the last cluster state is dated in the future (its publisher's clock is ahead)"
        elif age > self._cluster_fresh_for(publisher):
            why = f"the last cluster state is {age:.0f} s old"
        else:
            newer = (
                publisher is not None
                and publisher.sampled_at is not None
                and publisher.sampled_at > c.sampled_at
            )
            if publisher is None or publisher.offline:
                why = f"its publisher {c.publisher} is offline"
            elif newer and not publisher.leader:
                why = f"its publisher {c.publisher} no longer leads"
            elif newer and not publisher.docker_ok:
                why = f"its publisher {c.publisher} cannot read the Swarm now"
            elif untrusted is not None:
                why = untrusted
            elif c.unknown is not None:
                why = f"{c.unknown} (as the leader {c.publisher} sees it)"
            else:
                return None
        return "; ".join([why, *self._manager_troubles()])

    def _manager_troubles(self) -> list[str]:
        troubles = sorted(
            f"{name}: {n.docker_error}"
            for name, n in self.nodes.items()
            if n.role == "manager" and not n.docker_ok and n.docker_error and not n.offline
        )
        return troubles[:3]

    def _cluster_fresh_for(self, publisher: NodeEntry | None) -> float:
        """How long the leader's cluster state counts: --stale-after, and no longer than
        three of its publisher's intervals and a second, so a leader cut off (whose
        silence is all the gauge hears) is doubted as soon as Swarm itself does."""
        if publisher is None or publisher.interval_s is None:
            return self.stale_after_s
        return min(self.stale_after_s, 3 * publisher.interval_s + 1.0)

    def snapshot(self) -> dict[str, Any]:
        """The aggregate, as /api/cluster serves it (a contract; see the README)."""
        self.forget_silent()
        now = self.clock()
        unknown = self._totals_unknown(now)
        cluster = self.cluster if unknown is None else None
        # Swarm's word on each node outlives the totals for a while: a node marked down
        # stays down through an election, or while the leader's agent is away.
        word = self.cluster if cluster is not None or self._word_is_recent(now) else None
        nodes: list[dict[str, Any]] = []
        for name in sorted(self.nodes):
            entry = self.nodes[name]
            age = self._age(entry, now)
            stale = age > self.stale_after_s
            swarm = word.node(name, entry.node_id) if word is not None else None
            down = swarm is not None and swarm.down
            # a fresh cluster state that does not list the node: it left the Swarm
            in_swarm = None if cluster is None else swarm is not None
            nodes.append(
                {
                    "name": name,
                    "online": not entry.offline,
                    "stale": stale,
                    "strain": entry.strain,
                    "tasks_running": entry.tasks_running,
                    "own_tasks": entry.own_tasks,
                    "leds": entry.leds,
                    "cpu_percent": entry.cpu_percent,
                    "memory_percent": entry.memory_percent,
                    "role": entry.role,
                    "docker_ok": entry.docker_ok,
                    "docker_error": entry.docker_error,
                    "swarm_state": swarm.state if swarm else None,
                    "availability": swarm.availability if swarm else None,
                    "reachability": swarm.reachability if swarm else None,
                    "clock_offset_s": self._clock_offset(entry),
                    "down": down,
                    "in_swarm": in_swarm,
                    "counted": not (entry.offline or stale or down or in_swarm is False),
                }
            )
        counted = [n["strain"] for n in nodes if n["counted"]]
        desired: int | None = None
        running: int | None = None
        own_desired: int | None = None
        own_running: int | None = None
        if cluster is not None:
            desired, running = cluster.desired, cluster.running
            own_desired, own_running = cluster.own_desired, cluster.own_running
        strain: float | None = None
        if counted or desired is not None:
            # the leader's word on the workload tasks missing (the gauge's own, and
            # those starting, are not)
            missing = cluster.missing if cluster is not None else None
            strain = round(combined_strain(counted, missing or 0.0), 3)
        return {
            "strain": strain,
            "desired": desired,
            "running": running,
            "own_desired": own_desired,
            "own_running": own_running,
            "totals_unknown": unknown,
            # there were totals and now there are none: the leader's agent is gone,
            # an election, quorum lost (the alarm lights)
            "totals_lost": unknown is not None and self.cluster is not None,
            "services": [s.as_dict() for s in cluster.services] if cluster is not None else [],
            "clock_skew_s": self.clock_skew_s,
            "nodes": nodes,
        }

    def _clock_offset(self, entry: NodeEntry) -> float | None:
        """How far the node's clock is ahead of the gauge's (negative: behind)."""
        ahead = entry.clock.node_ahead_s(self.wall() - self.clock())
        return None if ahead is None else round(ahead, 1)
