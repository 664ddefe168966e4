"""The fault suite's rig: a real three-node Swarm, one agent per node, one broker, one
gauge, and a poller that sets the gauge's /api/cluster beside the truth read from the
engines at the same moments.

Run the way a Pi lives: each agent runs inside its node's network namespace and reads
its dockerd through a socket proxy there; the broker listens only on the host's address
on the test bridge, so cutting a node's link cuts its MQTT too. The agents keep the
default keepalive (30 s), so a cut shorter than 45 s never drops their connection.

Truth: a task is truly running when its container runs on an engine whose node Swarm
does not mark down (a node `unknown` right after a failover is not down), that is
still in the Swarm, and Swarm still wants the task running (not an orphan being
stopped on a node back from a cut link). Desired: the sum of the services'
DesiredTasks, from whichever manager answers; None while none does (no leader). The
leader is who the managers name, and only while a majority of them is reachable from
it: a leader without quorum still answers from its store, and is no leader to trust.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.docker.readings import TASK_LABEL
from tests.helpers import AgentProcess, clean_env
from tests.mqtt_watch import Received, Watcher
from tests.peers.broker import Broker
from tests.peers.net import free_port, wait_for_port, wait_until
from tests.peers.socket_proxy import UnixProxy
from tests.peers.swarm3 import HOST_ADDR, Node, Swarm3

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
INTERVAL_S = 1.0
STALE_AFTER_S = 5.0
KEEPALIVE_S = 30  # the agents' default: a frozen agent is offline after 1.5 × this
GAUGE_KEEPALIVE_S = 5  # the gauge, on the host, is never cut off
POLL_S = 0.5
TRUTH_TIMEOUT_S = 1.0
# The gauge may trail a change of the truth by two intervals, a poll and a refresh.
LAG_S = 2 * INTERVAL_S + POLL_S + 0.5


@dataclass(frozen=True)
class Truth:
    running: int
    desired: int | None
    states: dict[str, str]  # host name → Swarm state, as the last manager that answered saw it
    leader: str | None  # None: no manager answered with a leader that has quorum
    on_engine: dict[str, int] = field(default_factory=dict)  # task containers per live engine
    unreachable: frozenset[str] = frozenset()  # managers the leader cannot reach
    quorum_lost: bool = False  # a leader answered, but cannot reach a majority
    complete: bool = True  # every running engine told its task containers in time
    running_ids: frozenset[str] = frozenset()  # the tasks counted in `running`


@dataclass(frozen=True)
class View:
    """What one manager says of the Swarm."""

    states: dict[str, str]
    leader: str | None
    desired: int
    wanted: frozenset[str]  # IDs of the tasks Swarm wants running
    unreachable: frozenset[str]
    quorum_lost: bool


@dataclass(frozen=True)
class Moment:
    at: float  # time.time()
    gauge: dict[str, Any] | None  # /api/cluster, None if it did not answer
    truth: Truth


class TruthReader:
    """Reads the engines directly, each call bounded (managers hang in an election)."""

    def __init__(self, swarm: Swarm3) -> None:
        self.swarm = swarm
        self._clients: dict[int, Any] = {}
        self._states: dict[str, str] = {}
        self._wanted: frozenset[str] = frozenset()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=2 * len(swarm.nodes))

    def _api(self, node: Node) -> Any:
        import docker

        with self._lock:
            if node.n not in self._clients:
                self._clients[node.n] = docker.APIClient(
                    base_url=node.base_url, version="1.41", timeout=TRUTH_TIMEOUT_S
                )
            return self._clients[node.n]

    def _drop(self, node: Node) -> None:
        with self._lock:
            client = self._clients.pop(node.n, None)
        if client is not None:
            client.close()

    def _view(self, node: Node) -> View | None:
        """What this node's manager says; None if it cannot say."""
        try:
            nodes = self._api(node).nodes()
            services = self._api(node).services(status=True)
            tasks = self._api(node).tasks(filters={"desired-state": "running"})
        except Exception:
            self._drop(node)
            return None
        states = {n["Description"]["Hostname"]: n["Status"]["State"] for n in nodes}
        leader = next(
            (n["Description"]["Hostname"] for n in nodes if (n.get("ManagerStatus") or {})
             .get("Leader")),
            None,
        )  # fmt: skip
        desired = sum((s.get("ServiceStatus") or {}).get("DesiredTasks", 0) for s in services)
        wanted = frozenset(t["ID"] for t in tasks if t.get("DesiredState") == "running")
        managers = {
            n["Description"]["Hostname"]: n["ManagerStatus"].get("Reachability")
            for n in nodes
            if n.get("ManagerStatus")
        }
        unreachable = frozenset(name for name, r in managers.items() if r == "unreachable")
        quorum_lost = len(managers) - len(unreachable) <= len(managers) // 2
        return View(states, leader, desired, wanted, unreachable, quorum_lost)

    def _count(self, node: Node) -> list[str] | None:
        """The task IDs of the task containers running on this engine."""
        try:
            containers = self._api(node).containers(
                filters={"label": TASK_LABEL, "status": "running"}
            )
        except Exception:
            self._drop(node)
            return None
        return [c["Labels"][TASK_LABEL] for c in containers]

    def read(self) -> Truth:
        """Every engine asked at once, each call bounded: a leaderless manager that
        hangs delays a reading by TRUTH_TIMEOUT_S, never the poll by a multiple of it."""
        live = [n for n in self.swarm.nodes if n.running]
        views = {n.name: self._pool.submit(self._view, n) for n in live}
        counts = {n.name: self._pool.submit(self._count, n) for n in live}
        answered = {name: v for name, f in views.items() if (v := f.result()) is not None}
        # A node whose link is cut speaks for nobody but itself: its view (a leader
        # without quorum, all others unreachable) is used only where no other answers,
        # and never to say who is unreachable (nobody can hear it say so).
        heard = {name: v for name, v in answered.items() if not self.swarm.node(name).cut}
        answers = list((heard or answered).values())
        leader: str | None = None
        desired: int | None = None
        unreachable: frozenset[str] = frozenset()
        quorum_lost = False
        if answers:  # the one that knows a leader with quorum, else any leader
            view = max(answers, key=lambda a: (a.leader is not None and not a.quorum_lost,
                                               a.leader is not None))  # fmt: skip
            leader, desired, self._wanted = view.leader, view.desired, view.wanted
            self._states = view.states
            if heard:
                unreachable, quorum_lost = view.unreachable, view.quorum_lost
            if view.quorum_lost:
                leader = None  # the managers do not name it: only its own store does
        ids = {name: c for name, f in counts.items() if (c := f.result()) is not None}
        # truly running: its container runs, on a node not down, and Swarm still wants
        # the task (an orphan on a node back from a cut link is being stopped)
        running_ids = frozenset(
            i
            for name, c in ids.items()
            if self._states.get(name) not in (None, "down", "disconnected")
            for i in c
            if i in self._wanted
        )
        running = len(running_ids)
        on_engine = {name: len(c) for name, c in ids.items()}
        complete = len(ids) == len(live)
        return Truth(
            running,
            desired,
            dict(self._states),
            leader,
            on_engine,
            unreachable,
            quorum_lost,
            complete,
            running_ids,
        )

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for n in list(self._clients):
            self._clients.pop(n).close()


def held(history: list[Moment], m: Moment, value: Callable[[Moment], object]) -> bool:
    """value() was the same at m, at every moment of the LAG_S before it, and at the last
    moment before that window (no more than a second and a half earlier)."""
    before = [h for h in history if h.at < m.at - LAG_S]
    if not before or m.at - LAG_S - before[-1].at > 1.5:
        return False
    v = value(m)
    return all(value(h) == v for h in [before[-1], *window(history, m)])


def window(history: list[Moment], m: Moment) -> list[Moment]:
    """The moments of the LAG_S up to m."""
    return [h for h in history if m.at - LAG_S <= h.at <= m.at]


@dataclass
class Verdict:
    scenario: str
    detected_s: float | None
    right_s: float | None
    wrong: int
    longest_s: float
    gaps: int
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(self) -> str:
        def s(v: float | None) -> str:
            return "-" if v is None else f"{v:.1f}"

        return (
            f"| {self.scenario} | {s(self.detected_s)} | {s(self.right_s)} | "
            f"{self.wrong} ({self.longest_s:.1f} s) | {self.gaps} |"
        )


TABLE_HEAD = (
    "| scenario | Swarm detected after (s) | gauge right after (s) "
    "| wrong moments (longest) | state gaps |\n|---|---|---|---|---|"
)


def wrong_reasons(
    m: Moment, history: list[Moment], in_grace: bool, changing: bool = False
) -> list[str]:
    """What is wrong with the gauge at moment m, judged against the truth then.

    in_grace: within Swarm's detection time (+ two intervals) of a fault, when only
    the checks below that no fault excuses apply. changing: within LAG_S of a change
    the test made on purpose (scale, drain, a mended link), when tasks stop by design.
    """
    g, t = m.gauge, m.truth
    if g is None:
        return ["the gauge did not answer"]
    reasons = []
    running, desired, strain = g["running"], g["desired"], g["strain"]
    # No fault excuses these: engines that kept running their tasks all along never
    # look idle, failed or empty (the false alarm right after a failover).
    # the tasks that truly ran at every moment of the window (not a count: a task Swarm
    # moved away from a down node and one it started elsewhere are different tasks)
    lasting = [h.truth.running_ids for h in window(history, m)]
    floor = len(frozenset.intersection(*lasting)) if lasting else t.running
    if not changing and running is not None and running < floor:
        reasons.append(f"running {running} < {floor} that ran throughout the last {LAG_S:g} s")
    if running == 0 and desired == 0 and t.running > 0:
        reasons.append(f"0/0 while {t.running} tasks run")
    # a node's own count, where its engine's count held still for LAG_S: an agent
    # never publishes 0 tasks it did not count (a manager in an election, say)
    for n in g["nodes"]:  # unknown is not 0: a node whose dockerd is down counted nothing
        name = n["name"]
        talking = n["online"] and not n["stale"] and t.complete and name not in t.on_engine
        down = talking and held(history, m, lambda h, n=name: n in h.truth.on_engine)
        if down and n["tasks_running"] == 0:
            reasons.append(f"{name} says 0 tasks while its dockerd is down")
    for n in [] if changing else g["nodes"]:
        count = t.on_engine.get(n["name"])
        if count is None or not n["online"] or n["stale"] or n["tasks_running"] == count:
            continue
        name = n["name"]
        if held(history, m, lambda h, name=name: h.truth.on_engine.get(name)):
            reasons.append(f"{n['name']} says {n['tasks_running']} tasks, its engine runs {count}")
    # Nor these, once the truth has held for LAG_S (Swarm's own word + two intervals):
    # no leader to trust (an election, or quorum lost), no totals either; a node Swarm
    # marks down, or a manager the leader cannot reach, is not counted, whatever else
    # arrives (a replayed backlog from a leader that was cut off, say)
    if t.leader is None and running is not None and held(history, m, lambda h: h.truth.leader):
        why = "quorum lost" if t.quorum_lost else "no leader"
        reasons.append(f"totals {running}/{desired} shown while the Swarm has {why}")
    counted = {n["name"] for n in g["nodes"] if n["counted"]}
    for name in sorted(counted):
        if name in t.unreachable and held(history, m, lambda h, n=name: n in h.truth.unreachable):
            reasons.append(f"{name} is unreachable from the leader but counted")
        state = t.states.get(name)
        if state in ("down", "disconnected") and held(
            history, m, lambda h, n=name: h.truth.states.get(n)
        ):
            reasons.append(f"{name} is {state} but counted")
    if in_grace:
        return reasons
    # (an engine too slow to tell its containers within TRUTH_TIMEOUT_S, on this busy
    # host, leaves the truth a lower bound only: not a ceiling then)
    # (and once the truth has held for LAG_S: Swarm flaps a lossy node down and up
    # within a second, faster than a leader's next sample can say)
    ceiling = held(history, m, lambda h: h.truth.running)
    if running is not None and running > t.running and t.complete and ceiling:
        reasons.append(f"running {running} > truly running {t.running}")
    # A false alarm is one the task totals make: the three nodes here share one host,
    # whose CPU may truly be busy, so the nodes' own strain is left out of it.
    own = [n["strain"] for n in g["nodes"] if n["counted"]]
    own_mean = sum(own) / len(own) if own else 0.0
    if (
        strain is not None
        and strain >= 0.9
        and own_mean < 0.9
        and t.desired
        and t.running >= t.desired
    ):
        reasons.append(f"strain {strain} (nodes {own_mean:.2f}) while every desired task runs")
    # where the truth has held still for LAG_S with a leader, the gauge must match it
    steady = t.leader is not None and held(
        history, m, lambda h: (h.truth.running, h.truth.leader, h.truth.states, h.truth.unreachable)
    )
    if steady:
        if running != t.running:
            reasons.append(f"running {running}, truly {t.running} (held for {LAG_S:g} s)")
        if desired != t.desired:
            reasons.append(f"desired {desired}, truly {t.desired}")
        rows = {n["name"]: n for n in g["nodes"]}
        for name, state in t.states.items():
            row = rows.get(name)
            if row is None:
                continue
            # a manager the leader cannot reach is not counted (its Raft link may lag its
            # node's state by seconds after a restart)
            healthy = state == "ready" and name in t.on_engine and name not in t.unreachable
            if healthy and row["online"] and not row["stale"] and not row["counted"]:
                reasons.append(f"{name} is ready and talking but not counted")
    return reasons


class Rig:
    """Everything the scenarios act on, started once for the module."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.swarm = Swarm3()
        self.broker = Broker(workdir, host=HOST_ADDR)  # reachable over the bridge only
        self.agents: dict[str, AgentProcess] = {}
        # every agent reads its node's Docker through the socket proxy, as in the stack:
        # the proxy is tried as leader, follower and worker, through every fault
        self.proxies: dict[str, UnixProxy] = {}
        self.gauge: Any = None
        self.http_port = free_port()
        self.moments: list[Moment] = []
        self.verdicts: list[Verdict] = []
        self.watcher: Watcher | None = None
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="fault-poller", daemon=True)
        self.truth: TruthReader | None = None

    # --- start and stop --------------------------------------------------------------

    def start(self) -> Rig:
        (ARTIFACTS / "faults-moments.jsonl").unlink(missing_ok=True)
        self.swarm.start()
        self.broker.start()
        self.watcher = Watcher(self.broker.host, self.broker.port, "swarmgauge/#", "fault-watch")
        for node in self.swarm.nodes:
            self.start_agent(node)
        self.start_gauge()
        self.truth = TruthReader(self.swarm)
        self._poller.start()
        return self

    def start_gauge(self) -> None:
        import subprocess
        import sys

        log = (self.workdir / "gauge.log").open("ab")
        self.gauge = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gauge",
                "--broker",
                self.broker.url,
                "--http",
                f"127.0.0.1:{self.http_port}",
                "--stale-after",
                f"{STALE_AFTER_S:g}",
                "--keepalive",
                str(GAUGE_KEEPALIVE_S),
            ],  # fmt: skip
            env=clean_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        if not wait_for_port(self.http_port, 20):
            raise RuntimeError(f"the gauge did not listen: {self.gauge_log()[-500:]}")

    def stop_gauge(self) -> None:
        if self.gauge is not None and self.gauge.poll() is None:
            self.gauge.terminate()
            try:
                self.gauge.wait(timeout=10)
            except Exception:
                self.gauge.kill()
                self.gauge.wait()

    def start_agent(self, node: Node, **env: str) -> AgentProcess:
        """The node's agent, inside the node's network namespace; env: added variables."""
        if node.name not in self.proxies:
            path = str(node.dir / "proxy.sock")
            self.proxies[node.name] = UnixProxy(path, str(node.socket)).start()
        agent = AgentProcess(
            [
                "--docker-host",
                self.proxies[node.name].url,
                "--broker",
                self.broker.url,
                "--interval",
                f"{INTERVAL_S:g}",
                "--display",
                "none",
                "--no-discovery",
                "--docker-timeout",
                "2",
            ],  # fmt: skip
            self.workdir / f"agent-{node.name}.log",
            env=clean_env(**env),
            wrapper=self.swarm.wrapper(node),
        ).start()
        self.agents[node.name] = agent
        return agent

    def close(self) -> None:
        self._stop.set()
        if self._poller.is_alive():
            self._poller.join(timeout=5)
        self.stop_gauge()
        for agent in self.agents.values():
            if agent.proc is not None and agent.proc.poll() is None:
                agent.proc.terminate()
                try:
                    agent.proc.wait(timeout=10)
                except Exception:
                    agent.stop()
        for proxy in self.proxies.values():
            proxy.close()
        if self.watcher is not None:
            self.watcher.close()
        if self.truth is not None:
            self.truth.close()
        self.broker.stop()
        self.swarm.close()

    # --- observing -------------------------------------------------------------------

    def _poll(self) -> None:
        assert self.truth is not None
        url = f"http://127.0.0.1:{self.http_port}/api/cluster"
        while not self._stop.wait(max(0.0, POLL_S - time.time() % POLL_S)):
            at = time.time()
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    gauge: dict[str, Any] | None = json.loads(r.read())
            except Exception:
                gauge = None
            self.moments.append(Moment(at, gauge, self.truth.read()))

    def latest(self) -> Moment:
        n = len(self.moments)
        wait_until(lambda: len(self.moments) > n, 5, 0.05)
        return self.moments[-1]

    def until(self, what: str, check: Any, timeout_s: float) -> float:
        """Seconds until check(latest moment) holds; AssertionError naming `what` if never."""
        start = time.time()
        found = wait_until(lambda: check(self.latest()), timeout_s, 0.05)
        assert found, f"{what}: not within {timeout_s:g} s; last: {self.moments[-1]}"
        return time.time() - start

    def gauge_log(self) -> str:
        return (self.workdir / "gauge.log").read_text(errors="replace")

    def node(self, name: str) -> Node:
        return next(n for n in self.swarm.nodes if n.name == name)

    # --- one scenario ------------------------------------------------------------------

    @contextmanager
    def scenario(self, name: str, quiet_nodes: tuple[str, ...] = ()) -> Iterator[Scenario]:
        sc = Scenario(name, time.time(), quiet_nodes)
        yield sc
        sc.end = time.time()
        self.verdicts.append(self.judge(sc))
        self.record(sc)

    def record(self, sc: Scenario) -> None:
        """Every moment of the scenario, one JSON line each, for reading a verdict after
        the run: tests/artifacts/faults-moments.jsonl."""
        ARTIFACTS.mkdir(exist_ok=True)
        with (ARTIFACTS / "faults-moments.jsonl").open("a") as out:
            for m in self.moments:
                if not sc.start <= m.at <= sc.end:
                    continue
                g = m.gauge or {}
                line = {
                    "scenario": sc.name,
                    "t": round(m.at - sc.start, 2),
                    "gauge": {k: g.get(k) for k in ("running", "desired", "totals_unknown")}
                    | {"nodes": {n["name"]: _brief(n) for n in g.get("nodes", [])}},
                    "truth": {
                        "running": m.truth.running,
                        "desired": m.truth.desired,
                        "leader": m.truth.leader,
                        "states": m.truth.states,
                        "on_engine": m.truth.on_engine,
                        "unreachable": sorted(m.truth.unreachable),
                    },
                }
                out.write(json.dumps(line) + "\n")

    def judge(self, sc: Scenario) -> Verdict:
        inside = [m for m in self.moments if sc.start <= m.at <= sc.end]
        history = [m for m in self.moments if sc.start - LAG_S - 2 <= m.at <= sc.end]
        wrong = 0
        longest = run = 0
        reasons: list[str] = []
        for m in inside:
            if any(a <= m.at <= b for a, b in sc.gauge_away):
                continue  # the gauge was stopped on purpose
            in_grace = any(f <= m.at <= f + g for f, g in sc.graces)
            changing = any(c <= m.at <= c + g for c, g in sc.changes)
            why = wrong_reasons(m, history, in_grace, changing)
            if why:
                wrong += 1
                run += 1
                longest = max(longest, run)
                if len(reasons) < 8:
                    reasons.append(f"+{m.at - sc.start:.1f} s: {'; '.join(why)}")
            else:
                run = 0
        # gauge right: from the last fault until its running matches the truth to the end
        last_fault = max((f for f, _ in sc.graces), default=sc.start)
        right_at = None
        for m in inside:
            if m.at < last_fault:
                continue
            ok = m.gauge is not None and m.gauge["running"] == m.truth.running
            if ok and right_at is None:
                right_at = m.at
            elif not ok:
                right_at = None
        return Verdict(
            scenario=sc.name,
            detected_s=sc.detected_s,
            right_s=None if right_at is None else max(0.0, right_at - last_fault),
            wrong=wrong,
            longest_s=longest * POLL_S,
            gaps=self.state_gaps(sc),
            reasons=reasons,
            notes=sc.notes,
        )

    def state_gaps(self, sc: Scenario) -> int:
        """Intervals with no state at a subscriber: gaps over 1.5 periods between two states of a
        node whose agent was not the one being killed or frozen."""
        assert self.watcher is not None
        gaps = 0
        for name in self.agents:
            if name in sc.quiet_nodes:
                continue
            times = [
                m.at
                for m in self.watcher.on(f"swarmgauge/node/{name}/state")
                if sc.start <= m.at <= sc.end and not m.retain
            ]
            period = INTERVAL_S * 1.05
            gaps += sum(
                max(0, round((b - a) / period) - 1) for a, b in zip(times, times[1:], strict=False)
            )
        return gaps

    def unknown_lags(self, since: float) -> list[float]:
        """For each stretch since `since` in which the truth had no leader to trust for
        more than LAG_S: seconds from its start until the gauge showed the totals
        unknown (the whole stretch, where it never did)."""
        lags: list[float] = []
        run: list[Moment] = []
        for m in [*(m for m in self.moments if m.at >= since), None]:
            if m is not None and m.truth.leader is None:
                run.append(m)
                continue
            if run and run[-1].at - run[0].at > LAG_S:
                shown = next((r.at for r in run if r.gauge and r.gauge["running"] is None), None)
                lags.append((shown or run[-1].at) - run[0].at)
            run = []
        return lags

    def watcher_states(self, name: str, since: float) -> list[Received]:
        """Every live state of node `name` since `since`."""
        assert self.watcher is not None
        topic = f"swarmgauge/node/{name}/state"
        return [m for m in self.watcher.on(topic) if m.at >= since and not m.retain]

    def watcher_cluster_states(self, since: float) -> list[Received]:
        assert self.watcher is not None
        return [m for m in self.watcher.on_cluster() if m.at >= since and not m.retain]

    def cluster_publishers(self, since: float) -> list[tuple[float, str]]:
        """(arrival, publisher) of every live cluster state since `since`."""
        assert self.watcher is not None
        return [
            (m.at, m.json().get("publisher"))
            for m in self.watcher.on_cluster()
            if m.at >= since and not m.retain
        ]


def _brief(node: dict[str, Any]) -> str:
    """A gauge's node row in a few letters: counted/online/stale/down, tasks."""
    flags = "".join(
        c for c, on in (("C", node["counted"]), ("o", not node["online"]), ("s", node["stale"]),
                        ("d", node["down"])) if on
    )  # fmt: skip
    return f"{flags or '-'} {node['tasks_running']}"


@dataclass
class Scenario:
    name: str
    start: float
    quiet_nodes: tuple[str, ...] = ()
    end: float = 0.0
    graces: list[tuple[float, float]] = field(default_factory=list)  # (fault at, grace s)
    changes: list[tuple[float, float]] = field(default_factory=list)  # (change at, lag s)
    detected_s: float | None = None
    notes: list[str] = field(default_factory=list)
    gauge_away: list[tuple[float, float]] = field(default_factory=list)  # restarted on purpose

    def fault(self, grace_s: float) -> float:
        """A fault happens now; the gauge has grace_s to catch up. Returns now."""
        now = time.time()
        self.graces.append((now, grace_s))
        return now

    def change(self, grace_s: float = LAG_S) -> float:
        """A change made on purpose now (tasks stop by design): a fault too. Returns now."""
        now = self.fault(grace_s)
        self.changes.append((now, grace_s))
        return now

    def settled_at(self, change_at: float, until: float) -> None:
        """The change took effect in Swarm only at `until`: allow two intervals past it."""
        self.changes = [
            (c, max(g, until - c + 2 * INTERVAL_S + POLL_S)) if c == change_at else (c, g)
            for c, g in self.changes
        ]
        self.extend_grace(change_at, until)

    def extend_grace(self, fault_at: float, until: float) -> None:
        """Swarm took until `until` to notice: the grace runs two intervals past that."""
        self.graces = [
            (f, max(g, until - f + 2 * INTERVAL_S + POLL_S)) if f == fault_at else (f, g)
            for f, g in self.graces
        ]
