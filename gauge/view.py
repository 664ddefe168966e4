"""The cluster as the gauge sees it: the newest state of every node, kept from MQTT.

Pure apart from the clocks, which are passed in. Each message is parsed strictly by
agent.shared.wire (topics, payloads): bad input on any topic is Rejected with a short
reason and never changes another node's state.

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

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.shared.wire.payloads import (
    ClusterState,
    NodeState,
    Rejected,
    is_offline,
    parse_cluster_state,
    parse_node_state,
)
from agent.shared.wire.topics import node_topic
from agent.strain import combined_strain
from gauge.clocks import NodeClock

SWARM_WORD_MAX_AGE_S = 120.0  # the leader's last word on a node, kept through an election
DEFAULT_MAX_NODES = 1024
DEFAULT_FORGET_AFTER_S = 3600.0
DEFAULT_CLOCK_SKEW_S = 2.0
MAX_CLUSTER_CANDIDATES = 8  # cluster states held, one per publisher (Swarm advises ≤ 7 managers)


@dataclass
class NodeEntry(NodeState):
    """A node's newest state, and what the gauge knows of it besides."""

    sampled_local: float | None = None  # the sample time on the gauge's monotonic clock
    received_s: float | None = None  # monotonic clock of the newest valid state
    offline: bool = False  # availability said "offline"
    retained: bool = False  # delivered from the broker's store, not live
    seen_s: float = 0.0  # monotonic clock of the newest message of any kind
    clock: NodeClock = field(default_factory=NodeClock)  # kept from state to state
    reconnected: bool = False  # its agent connected anew since this state


@dataclass
class ClusterEntry(ClusterState):
    """A cluster state held, and when the gauge had it."""

    sampled_local: float | None = None  # the sample time on the gauge's monotonic clock
    received_s: float = 0.0
    retained: bool = False


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
        where = node_topic(self.prefix, topic)
        if where is None:
            raise Rejected("unexpected topic", "topic")
        node, kind = where
        if kind == "cluster":
            if payload:
                self._apply_cluster(
                    node, parse_cluster_state(payload, node, ClusterEntry), retained
                )
            else:  # its retained cluster state cleared
                self.clusters.pop(node, None)
            return
        now = self.clock()
        if kind == "availability":
            offline = is_offline(payload)
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
        entry = parse_node_state(payload, node, NodeEntry)
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
                    # its LEDs flash white now, as far as anyone can tell
                    "identify": entry.identify and not (entry.offline or stale),
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
