"""The truth when the Swarm itself splits, in the pure middle: quorum lost, replays,
clocks that lie, tasks that cannot be placed, tasks that cannot be counted.

The fault suite (tests/test_faults.py) shows each of these on a real Swarm; here each
rule is pinned down alone, with the clocks passed in.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from agent.docker.readings import LeaderSeen, SwarmReading, cluster_view
from agent.host import HostReading
from agent.shared.wire.payloads import Rejected
from agent.snapshot import cluster_snapshot, node_snapshot
from agent.strain import node_strain
from gauge.clocks import SPAN_S, NodeClock
from gauge.metrics import MessageCounts, metrics_page
from gauge.view import ClusterView
from tests.helpers import validate
from tests.test_swarm_parsing import node, service, task

T0 = 1_800_000_000.0  # the gauge's wall clock at the start of each test


class Clocks:
    """The gauge's monotonic and wall clocks, moved together by the test."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = T0

    def tick(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds


def view_with(clocks: Clocks, stale_after_s: float = 5) -> ClusterView:
    return ClusterView(
        "swarmgauge", stale_after_s, clock=lambda: clocks.mono, wall=lambda: clocks.wall
    )


def at(wall: float) -> datetime:
    return datetime.fromtimestamp(wall, UTC)


def state(
    name: str,
    sampled: float,
    *,
    leader: bool = False,
    sees: str | None = None,
    manager: bool = False,
    tasks: int | None = 1,
    ok: bool = True,
    node_id: str | None = None,
) -> bytes:
    """A node state as the agent makes it, sampled at `sampled` by the node's clock.
    A leader, or a manager that `sees` a leader (a worker otherwise); a leader that
    reads the Swarm names itself."""
    if leader and ok and sees is None:
        sees = name
    swarm = SwarmReading(
        ok=ok,
        error=None if ok else "no Swarm leader (an election, or quorum lost): deadline",
        role="manager" if leader or sees or manager else "worker",
        leader=leader,
        sees_leader=LeaderSeen(f"id-{sees}", sees) if sees else None,
        node_id=node_id or f"id-{name}",
        tasks_by_service=None if tasks is None else ({"web": tasks} if tasks else {}),
    )
    host = HostReading(20.0, 0.1, 1, 10.0, None)
    snap = node_snapshot(
        node=name,
        now=at(sampled),
        host=host,
        swarm=swarm,
        strain=node_strain(20.0, 10.0, swarm.tasks_running),
        interval_s=1.0,
    )
    validate("node", snap)
    return json.dumps(snap).encode()


def three_managers(unreachable: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    nodes = [node(n, leader=n == "1", role="manager") for n in ("1", "2", "3")]
    for n in nodes:
        n["ManagerStatus"]["Reachability"] = (
            "unreachable" if n["ID"] in unreachable else "reachable"
        )
    return nodes


def cluster(
    sampled: float,
    publisher: str = "pi-1",
    unreachable: tuple[str, ...] = (),
    tasks: list[dict[str, Any]] | None = None,
) -> bytes:
    """pi-1 (leader), pi-2, pi-3 all managers; one service of 3 tasks, one per node."""
    reading = cluster_view(
        three_managers(unreachable),
        [service("w", {"Replicated": {"Replicas": 3}}, {"DesiredTasks": 3, "RunningTasks": 3})],
        tasks if tasks is not None else [task("w", n) for n in ("1", "2", "3")],
    )
    snap = cluster_snapshot(now=at(sampled), cluster=reading, capacity=8, publisher=publisher)
    validate("cluster", snap)
    return json.dumps(snap).encode()


def row(view: ClusterView, name: str) -> dict[str, Any]:
    return next(n for n in view.snapshot()["nodes"] if n["name"] == name)


# --- quorum --------------------------------------------------------------------------


def test_a_leader_without_quorum_gives_no_totals_and_its_lost_managers_do_not_count() -> None:
    assert cluster_view(three_managers(("2",)), [], []).quorum_lost is None  # 2 of 3: quorum
    lost = cluster_view(three_managers(("2", "3")), [], [])
    assert lost.quorum_lost == "quorum lost: 2 of 3 managers unreachable"
    snap = json.loads(cluster(T0, unreachable=("2", "3")))
    assert snap["totals"]["desired"] is None and snap["totals"]["running"] is None
    assert snap["totals_unknown"] == lost.quorum_lost and snap["strain"]["value"] is None
    assert [n["reachability"] for n in snap["nodes"]] == ["reachable", "unreachable", "unreachable"]

    clocks = Clocks()
    view = view_with(clocks)
    for name in ("pi-1", "pi-2", "pi-3"):
        view.apply(f"swarmgauge/node/{name}/state", state(name, T0, leader=name == "pi-1"))
    view.apply("swarmgauge/node/pi-1/cluster", cluster(T0))
    assert view.snapshot()["desired"] == 3
    clocks.tick(1)
    for name in ("pi-1", "pi-2", "pi-3"):  # pi-2 and pi-3 still talk: only Swarm lost them
        view.apply(f"swarmgauge/node/{name}/state", state(name, T0 + 1, leader=name == "pi-1"))
    view.apply("swarmgauge/node/pi-1/cluster", cluster(T0 + 1, unreachable=("2", "3")))
    snap = view.snapshot()
    assert snap["desired"] is None and snap["running"] is None and snap["totals_lost"]
    assert snap["totals_unknown"].startswith("quorum lost: 2 of 3 managers unreachable")
    assert [n["counted"] for n in snap["nodes"]] == [True, False, False]
    assert row(view, "pi-2")["reachability"] == "unreachable" and row(view, "pi-2")["down"]
    assert snap["services"] == []  # what a store without quorum says is not the Swarm's


def test_in_a_split_the_leader_the_managers_name_is_the_one_shown() -> None:
    """For ~20 s two leaders speak: pi-1 cut off (no quorum, still naming itself), pi-2
    elected by the majority. The managers name pi-2: pi-1's word is not taken, nor does
    the page flip between the two twice an interval."""
    clocks = Clocks()
    view = view_with(clocks)
    for i in range(4):
        t = T0 + i
        view.apply("swarmgauge/node/pi-1/state", state("pi-1", t, leader=True))
        view.apply("swarmgauge/node/pi-2/state", state("pi-2", t, leader=True))
        view.apply("swarmgauge/node/pi-3/state", state("pi-3", t, sees="pi-2"))
        view.apply("swarmgauge/node/pi-2/cluster", cluster(t, publisher="pi-2", unreachable=("1",)))
        assert view.snapshot()["desired"] == 3
        clocks.tick(0.5)
        with pytest.raises(Rejected) as why:
            view.apply("swarmgauge/node/pi-1/cluster", cluster(t + 0.5, unreachable=("2", "3")))
        assert why.value.reason == "not_leader"
        assert view.snapshot()["desired"] == 3 and not row(view, "pi-2")["down"]
        clocks.tick(0.5)
    clocks.tick(6)  # pi-2 and pi-3 are silent now: pi-1 is the only manager that reports
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0 + 10, leader=True))
    view.apply("swarmgauge/node/pi-1/cluster", cluster(T0 + 10, unreachable=("2", "3")))
    assert view.snapshot()["totals_unknown"].startswith("quorum lost")


# --- the cluster state only from the leader the managers name ---------------------------


def test_a_workers_cluster_state_is_rejected() -> None:
    clocks = Clocks()
    view = view_with(clocks)
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0, leader=True))
    view.apply("swarmgauge/node/pi-3/state", state("pi-3", T0))  # a worker, as it says
    with pytest.raises(Rejected) as why:
        view.apply("swarmgauge/node/pi-3/cluster", cluster(T0, publisher="pi-3"))
    assert why.value.reason == "not_leader" and "worker" in str(why.value)
    with pytest.raises(Rejected) as why:  # nor can it name another publisher in the payload
        view.apply("swarmgauge/node/pi-3/cluster", cluster(T0, publisher="pi-1"))
    assert "publisher differs" in str(why.value)
    with pytest.raises(Rejected) as why:  # the old shared topic is no topic of the gauge's
        view.apply("swarmgauge/cluster/state", cluster(T0))
    assert why.value.reason == "topic"
    assert view.snapshot()["desired"] is None


def test_a_lone_claimant_is_rejected_where_the_managers_name_another() -> None:
    """pi-3 says it is a manager and leads; the other two managers name pi-1."""
    clocks = Clocks()
    view = view_with(clocks)
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0, leader=True))
    view.apply("swarmgauge/node/pi-2/state", state("pi-2", T0, sees="pi-1"))
    view.apply("swarmgauge/node/pi-3/state", state("pi-3", T0, leader=True))
    view.apply("swarmgauge/node/pi-1/cluster", cluster(T0))
    with pytest.raises(Rejected) as why:
        view.apply("swarmgauge/node/pi-3/cluster", cluster(T0 + 1, publisher="pi-3"))
    assert why.value.reason == "not_leader" and "name pi-1" in str(why.value)
    assert view.snapshot()["desired"] == 3 and view.cluster and view.cluster.publisher == "pi-1"


def test_a_claimant_against_a_lone_manager_gives_unknown_never_its_word() -> None:
    """One real manager (pi-1) and pi-3 claiming to be one too: no majority, so no
    totals, until the Swarm's own word (pi-1's, once trusted) shows pi-3 a worker."""
    clocks = Clocks()
    view = view_with(clocks)
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0, leader=True))
    view.apply("swarmgauge/node/pi-3/state", state("pi-3", T0, leader=True))
    view.apply("swarmgauge/node/pi-3/cluster", cluster(T0, publisher="pi-3"))
    view.apply("swarmgauge/node/pi-1/cluster", cluster(T0))
    snap = view.snapshot()
    assert snap["desired"] is None
    assert snap["totals_unknown"].startswith("no leader named by a majority of the 2 managers")
    # pi-1 alone for a moment (pi-3 away): its word is taken, and it says pi-3 is a worker
    clocks.tick(5)
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0 + 5, leader=True))
    view.apply("swarmgauge/node/pi-1/cluster", cluster_with_worker(T0 + 5, "pi-3"))
    assert view.snapshot()["desired"] == 3
    view.apply("swarmgauge/node/pi-3/state", state("pi-3", T0 + 5.5, leader=True))
    with pytest.raises(Rejected):
        view.apply("swarmgauge/node/pi-3/cluster", cluster(T0 + 5.5, publisher="pi-3"))
    assert view.snapshot()["desired"] == 3  # pi-3's claim to be a manager is not counted


def test_a_forgery_that_calls_the_real_managers_workers_is_a_conflict_not_the_truth() -> None:
    """A rooted worker (pi-2) claims to be the leader and publishes a cluster whose
    node list calls the real managers workers (so their votes would not count). The
    real leader's state passes too: two that pass are a conflict, never the forgery;
    once pi-2 is silent the real one is taken (issue 20's review)."""
    clocks = Clocks()
    view = view_with(clocks)
    for i in range(3):
        t = T0 + i
        view.apply("swarmgauge/node/pi-1/state", state("pi-1", t, leader=True))
        view.apply("swarmgauge/node/pi-3/state", state("pi-3", t, sees="pi-1"))
        view.apply("swarmgauge/node/pi-2/state", state("pi-2", t, leader=True))
        view.apply("swarmgauge/node/pi-2/cluster", forged_by_pi2(t))
        view.apply("swarmgauge/node/pi-1/cluster", cluster(t))
        snap = view.snapshot()
        assert snap["desired"] is None
        assert snap["totals_unknown"].startswith("2 nodes each claim to lead")
        clocks.tick(1)
    clocks.tick(5)  # pi-2 silent; the real managers go on
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0 + 8, leader=True))
    view.apply("swarmgauge/node/pi-3/state", state("pi-3", T0 + 8, sees="pi-1"))
    view.apply("swarmgauge/node/pi-1/cluster", cluster(T0 + 8))
    assert view.snapshot()["desired"] == 3


def forged_by_pi2(sampled: float) -> bytes:
    """pi-2's forgery: it leads, pi-1 and pi-3 are workers, 999 tasks wanted."""
    nodes = [node("2", leader=True, role="manager"), node("1"), node("3")]
    reading = cluster_view(
        nodes,
        [service("w", {"Replicated": {"Replicas": 999}}, {"DesiredTasks": 999})],
        [task("w", "2")],
    )
    snap = cluster_snapshot(now=at(sampled), cluster=reading, capacity=8, publisher="pi-2")
    return json.dumps(snap).encode()


def cluster_with_worker(sampled: float, worker: str) -> bytes:
    """pi-1 leads; `worker` is a worker in the Swarm's word."""
    nodes = [node("1", leader=True, role="manager"), node(worker[-1], role="worker")]
    reading = cluster_view(
        nodes,
        [service("w", {"Replicated": {"Replicas": 3}}, {"DesiredTasks": 3, "RunningTasks": 3})],
        [task("w", "1") for _ in range(3)],
    )
    snap = cluster_snapshot(now=at(sampled), cluster=reading, capacity=8, publisher="pi-1")
    validate("cluster", snap)
    return json.dumps(snap).encode()


def test_managers_whose_dockerd_is_down_do_not_report_so_the_leader_says_quorum_lost() -> None:
    """Two of three managers' dockerd stopped: their agents still publish, naming no
    one (their tasks unknown). The leader alone reports; its word is taken: quorum lost,
    and the two it cannot reach are not counted."""
    clocks = Clocks()
    view = view_with(clocks)
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0, leader=True))
    for name in ("pi-2", "pi-3"):
        view.apply(f"swarmgauge/node/{name}/state", state(name, T0, manager=True, tasks=None,
                                                            ok=False))  # fmt: skip
    view.apply("swarmgauge/node/pi-1/cluster", cluster(T0, unreachable=("2", "3")))
    snap = view.snapshot()
    assert snap["desired"] is None and snap["totals_unknown"].startswith("quorum lost")
    assert [n["counted"] for n in snap["nodes"]] == [True, False, False]


def test_a_live_cluster_state_dated_ahead_of_its_publishers_clock_is_rejected() -> None:
    clocks = Clocks()
    view = view_with(clocks)
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0, leader=True))
    with pytest.raises(Rejected) as why:
        view.apply("swarmgauge/node/pi-1/cluster", cluster(T0 + 30))
    assert why.value.reason == "future"
    view.apply("swarmgauge/node/pi-1/cluster", cluster(T0 + 1))  # within the skew: taken
    assert view.snapshot()["desired"] == 3


def test_a_cleared_cluster_topic_is_forgotten() -> None:
    clocks = Clocks()
    view = view_with(clocks)
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0, leader=True))
    view.apply("swarmgauge/node/pi-1/cluster", cluster(T0), retained=True)
    view.apply("swarmgauge/node/pi-1/cluster", b"")
    assert view.clusters == {} and view.snapshot()["desired"] is None


# --- newest sample wins ----------------------------------------------------------------


def test_a_state_never_replaces_a_newer_one_from_the_same_node() -> None:
    clocks = Clocks()
    view = view_with(clocks)
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0, tasks=5))
    clocks.tick(1)
    with pytest.raises(Rejected) as why:
        view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0 - 20, tasks=2))
    assert why.value.reason == "old"
    assert row(view, "pi-1")["tasks_running"] == 5
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0, tasks=5), retained=True)  # again
    assert row(view, "pi-1")["tasks_running"] == 5 and not row(view, "pi-1")["stale"]


def test_a_backlog_replayed_as_live_is_aged_by_its_sample_time() -> None:
    """A cut shorter than the keepalive: the QoS 1 backlog arrives as live messages."""
    clocks = Clocks()
    view = view_with(clocks)
    for i in range(5):  # the node's clock is 7 s behind the gauge's: that is no replay
        view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0 + i - 7))
        assert not row(view, "pi-1")["stale"]
        clocks.tick(1)
    clocks.tick(29)  # the link was cut; now it is back and the backlog comes in a burst
    for i in range(5, 28, 4):
        view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0 + i - 7))
    assert row(view, "pi-1")["stale"]  # the newest of the backlog was sampled 9 s ago
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0 + 34 - 7))  # live, just now
    assert not row(view, "pi-1")["stale"]
    assert row(view, "pi-1")["clock_offset_s"] == -7.0


def test_an_old_leaders_backlog_is_not_taken_nor_a_replay_of_the_leaders_own() -> None:
    clocks = Clocks()
    view = view_with(clocks)
    # pi-1's clock is right; pi-2's is 60 s behind: their clocks are learned live
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0, leader=True))
    view.apply("swarmgauge/node/pi-2/state", state("pi-2", T0 - 60, sees="pi-1"))
    clocks.tick(12)
    # pi-1 was cut off and no longer leads; pi-2 was elected
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0 + 12, sees="pi-2"))
    view.apply("swarmgauge/node/pi-2/state", state("pi-2", T0 + 12 - 60, leader=True))
    view.apply("swarmgauge/node/pi-2/cluster", cluster(T0 + 12 - 60, publisher="pi-2"))
    # the old leader's backlog: cluster states sampled before pi-2 was elected
    with pytest.raises(Rejected) as why:
        view.apply("swarmgauge/node/pi-1/cluster", cluster(T0 + 2, publisher="pi-1"))
    assert why.value.reason == "not_leader"
    with pytest.raises(Rejected) as why:  # the leader's own, replayed
        view.apply("swarmgauge/node/pi-2/cluster", cluster(T0 + 11 - 60, publisher="pi-2"))
    assert why.value.reason == "old"
    assert view.snapshot()["desired"] == 3
    assert view.cluster is not None and view.cluster.publisher == "pi-2"


def test_a_retained_state_dated_in_the_future_is_stale_until_a_live_one() -> None:
    clocks = Clocks()
    view = view_with(clocks)
    ahead = state("pi-3", T0 + 600)  # a Pi 10 min ahead, frozen since
    view.apply("swarmgauge/node/pi-3/state", ahead, retained=True)
    assert row(view, "pi-3")["stale"]
    assert row(view, "pi-3")["clock_offset_s"] is None  # not measured: nothing live yet
    clocks.tick(2)
    view.apply("swarmgauge/node/pi-3/state", state("pi-3", T0 + 602))  # it wakes up
    assert not row(view, "pi-3")["stale"]
    assert row(view, "pi-3")["clock_offset_s"] == 600.0
    clocks.tick(6)
    assert row(view, "pi-3")["stale"]  # silence still counts, however far ahead its clock


def test_a_retained_state_from_a_clock_set_right_since_is_not_fresh() -> None:
    """pi-3 was measured 10 min behind; while the gauge was away from the broker NTP set
    it right, it published, and died. Its retained state is dated 10 min ahead of what
    the gauge knows of its clock: of unknown age, stale."""
    clocks = Clocks()
    view = view_with(clocks)
    view.apply("swarmgauge/node/pi-3/state", state("pi-3", T0 - 600))
    clocks.tick(90)
    view.apply("swarmgauge/node/pi-3/state", state("pi-3", T0 + 1), retained=True)
    assert row(view, "pi-3")["stale"]


def test_a_leaders_cluster_state_dated_in_the_future_gives_no_totals() -> None:
    clocks = Clocks()
    view = view_with(clocks)
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0 + 600, leader=True), retained=True)
    view.apply("swarmgauge/node/pi-1/cluster", cluster(T0 + 600), retained=True)
    snap = view.snapshot()
    assert snap["desired"] is None and "future" in snap["totals_unknown"]


def test_a_node_back_with_its_clock_set_back_counts_at_once() -> None:
    """A Pi rebooted without network starts from the time it saved (behind): its new
    connection says `online`, and its states are not taken for a replay."""
    clocks = Clocks()
    view = view_with(clocks)
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0))
    view.apply("swarmgauge/node/pi-1/availability", b"offline")  # its last will
    clocks.tick(2)
    view.apply("swarmgauge/node/pi-1/availability", b"online")
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0 - 598))
    pi1 = row(view, "pi-1")
    assert pi1["counted"] and pi1["clock_offset_s"] == -600.0
    with pytest.raises(Rejected):  # within one connection, an older state is a replay
        view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0 - 620))


def test_clock_offsets_follow_a_clock_set_right() -> None:
    """A Pi boots with the time it saved at shutdown (behind), then NTP sets it right:
    followed at once. A clock set back looks late for up to SPAN_S of live messages."""
    clock = NodeClock()
    for i in range(3):
        clock.add(100.0 + i, T0 - 300 + i)  # 300 s behind
    assert clock.node_ahead_s(T0 - 100.0) == pytest.approx(-300.0)
    clock.add(103.0, T0 + 3)  # NTP set it right
    assert clock.node_ahead_s(T0 - 100.0) == pytest.approx(0.0)
    for i in range(int(SPAN_S) + 1):
        assert clock.node_ahead_s(T0 - 100.0) == pytest.approx(0.0)
        clock.add(104.0 + i, T0 - 60 + 4 + i)  # set back a minute (by hand, say)
    assert clock.node_ahead_s(T0 - 100.0) == pytest.approx(-60.0)


def test_a_burst_of_any_size_delivered_late_is_no_clock_step() -> None:
    """The gauge's own link half-dead for 30 s: every node's messages of that time come
    at once, as live ones. The node died half-way: it is not fresh."""
    clocks = Clocks()
    view = view_with(clocks)
    for i in range(10):
        view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0 + i))
        clocks.tick(1)
    clocks.tick(30)  # now T0 + 40; the node sampled until T0 + 25, then died
    for i in range(10, 26):  # 16 messages: more than any count-based window held
        view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0 + i))
    assert row(view, "pi-1")["stale"]
    assert row(view, "pi-1")["clock_offset_s"] == 0.0


# --- who vouches for the totals --------------------------------------------------------


def test_totals_are_unknown_once_their_publisher_cannot_read_the_swarm() -> None:
    clocks = Clocks()
    view = view_with(clocks)
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0, leader=True))
    view.apply("swarmgauge/node/pi-1/cluster", cluster(T0))
    assert view.snapshot()["running"] == 3
    clocks.tick(1)
    # the store hangs (a disruptive election): the leader's agent says so at once
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0 + 1, leader=True, ok=False))
    snap = view.snapshot()
    assert snap["running"] is None
    assert snap["totals_unknown"].startswith("its publisher pi-1 cannot read the Swarm")


def test_a_silent_leader_is_doubted_after_three_of_its_intervals() -> None:
    """A leader cut off says nothing more: its silence is all the gauge hears."""
    clocks = Clocks()
    view = view_with(clocks, stale_after_s=15)
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0, leader=True))  # interval 1 s
    view.apply("swarmgauge/node/pi-1/cluster", cluster(T0))
    clocks.tick(3.9)
    assert view.snapshot()["running"] == 3
    clocks.tick(0.2)
    snap = view.snapshot()
    assert snap["running"] is None and snap["totals_unknown"].startswith("the last cluster state")


# --- per service, with the reason --------------------------------------------------------


def test_a_service_that_cannot_be_placed_says_why() -> None:
    pending = task("w", "", state="pending")
    pending["Status"]["Err"] = "no suitable node (scheduling constraints not satisfied on 3 nodes)"
    tasks = [task("w", "1"), pending, dict(pending)]
    snap = json.loads(cluster(T0, tasks=tasks))
    (svc,) = snap["services"]
    assert (svc["desired"], svc["running"]) == (3, 1)
    assert svc["why"] == (
        "pending: no suitable node (scheduling constraints not satisfied on 3 nodes)"
    )
    full = json.loads(cluster(T0))["services"][0]
    assert full["why"] is None
    clocks = Clocks()
    view = view_with(clocks)
    view.apply("swarmgauge/node/pi-1/state", state("pi-1", T0, leader=True))
    view.apply("swarmgauge/node/pi-1/cluster", cluster(T0, tasks=tasks))
    assert view.snapshot()["services"] == [
        {
            "name": "svc-w",
            "mode": "replicated",
            "desired": 3,
            "running": 1,
            "why": svc["why"],
            "own": False,
        }
    ]


# --- unknown is not 0 ----------------------------------------------------------------------


def test_tasks_that_could_not_be_counted_are_null_not_0() -> None:
    payload = state("pi-2", T0, tasks=None, ok=False)
    snap = json.loads(payload)
    assert snap["tasks"]["running"] is None and snap["strain"]["tasks"] is None
    assert snap["strain"]["value"] == 0.2  # the larger of cpu and memory
    clocks = Clocks()
    view = view_with(clocks)
    view.apply("swarmgauge/node/pi-2/state", payload)
    assert row(view, "pi-2")["tasks_running"] is None
    text = metrics_page(view.snapshot, MessageCounts(), 0.9)().decode()
    assert 'swarmgauge_node_strain_ratio{node="pi-2"} 0.2' in text
    assert 'swarmgauge_node_running_tasks{node="pi-2"}' not in text
    fresh = SwarmReading(ok=True, tasks_by_service={})
    assert fresh.tasks_running == 0
    assert SwarmReading(ok=False, tasks_by_service=None).tasks_running is None


def test_the_node_schema_still_refuses_a_negative_task_count() -> None:
    snap = json.loads(state("pi-1", T0))
    snap["tasks"]["running"] = -1
    with pytest.raises(Exception, match="-1"):
        validate("node", snap)
