"""The Swarm sampler: reads what Docker Swarm says about this node and, on a manager,
the whole cluster (agent.docker.readings parses it).

Only GET requests, so the agent works through a read-only socket proxy. Never the
stats API: it loads dockerd heavily.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

from agent.docker.errors import describe_docker_error, dockerd_answers
from agent.docker.events import Changes
from agent.docker.http import DockerApiError, DockerHttp
from agent.docker.readings import (
    TASK_LABEL,
    ClusterReading,
    EngineTasks,
    Role,
    SwarmReading,
    cluster_key,
    cluster_view,
    leader_in,
    local_tasks,
)

log = logging.getLogger(__name__)

ClusterMode = Literal["leader", "any", "none"]


def version_gte(version: str, floor: str) -> bool:
    """'1.41' >= '1.40', as numbers (the SDK has one, but importing it costs ~100 ms)."""
    return tuple(int(p) for p in version.split(".")) >= tuple(int(p) for p in floor.split("."))


def _filters(**filters: str) -> str:
    return json.dumps({k.replace("_", "-"): [v] for k, v in filters.items()})


class SwarmSampler:
    """Reads Docker through the API connection `connect` opens (agent.docker.connect).

    connect is called again after a failure, so the agent recovers by itself when
    Docker comes back (and re-detects the API version if Docker was upgraded).

    cluster: which managers read the cluster view: "leader" (the agent: only the
    leader publishes it), "any" manager (--once), or "none" (the local view only).
    Every node counts its own tasks from its engine's containers labelled as Swarm
    tasks (a new leader's task list can miss one for a moment); the leader also reads
    nodes, services and tasks for the cluster view.

    GET /info is the dearest call for dockerd (about as much as all the others
    together), and what it tells (role, node id, host name) rarely changes: it is
    read again only after `info_max_age_s` or after any failure.

    probe_timeout_s: the deadline of the /nodes probe that tells leadership (at most
    timeout_s): after a disruptive election a manager's store hangs, and "no leader"
    must be said within the gauge's grace, not after the whole Docker timeout.

    stack: the name of the gauge's own Swarm stack, whose tasks are counted but are not
    strain (None: every task is strain).

    changes: what Docker's event stream says changed (agent.docker.events): this
    engine's task containers are listed again only when it says so, while it is not
    followed, or resync_s after the last list; None: listed every sample (--once).
    """

    def __init__(
        self,
        connect: Callable[[], DockerHttp] | None,
        base_url: str = "",
        timeout_s: float = 3.0,
        cluster: ClusterMode = "any",
        info_max_age_s: float = 60.0,
        probe_timeout_s: float | None = None,
        left_after_s: float = 30.0,
        stack: str | None = None,
        changes: Changes | None = None,
        resync_s: float = 60.0,
    ) -> None:
        self._connect = connect
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._cluster_mode = cluster
        self._api: DockerHttp | None = None
        self._last_error: str | None = None
        self._info_max_age_s = info_max_age_s
        self._info: dict[str, Any] | None = None
        self._info_time = 0.0
        # the /nodes probe that tells leadership: a hung Raft read must not hold up "no
        # leader" for the whole Docker timeout (see leadership_deadline)
        self._probe_timeout_s = min(timeout_s, probe_timeout_s or timeout_s)
        self._last_known: SwarmReading | None = None  # the newest reading with a node ID
        self._inactive_since: float | None = None  # when dockerd began to say "not in a swarm"
        self._left_after_s = left_after_s
        self._last_quorum: str | None = None
        self._stack = stack
        self._short_since: dict[str, float] = {}  # service ID → since when short of tasks
        self._changes = changes
        self._resync_s = resync_s
        self._engine_changed = True  # since listed: as the stream said, or unsure
        self._engine: EngineTasks | None = None  # this engine's task containers, as listed
        self._engine_at = 0.0  # monotonic time of that list
        # the leader's task list, kept while the Swarm is settled and nothing it keeps
        # of its nodes and services has changed (cluster_key)
        self._tasks: list[dict[str, Any]] | None = None
        self._tasks_key: tuple[Any, ...] | None = None
        self._tasks_at = 0.0
        self._short: set[str] = set()  # services short of running tasks in that list
        self._settled = False
        # the last cluster view and what it was made of: made again only where the
        # tasks were listed anew or /nodes, /services or the overdue ones differ
        self._view: ClusterReading | None = None
        self._view_of: tuple[Any, ...] = ()

    def read(self) -> SwarmReading:
        if self._connect is None:
            return SwarmReading(ok=False, error="Docker disabled (--docker-host none)")
        if self._changes is not None and self._changes.take():
            self._engine_changed = True
        try:
            if self._api is None:
                self._api = self._connect()  # in the API version dockerd speaks
            had_info = self._info is not None
            try:
                reading = self._read(self._api)
            except DockerApiError:
                if not had_info:
                    raise
                self._info = None  # e.g. demoted since /info was read: read it again, once
                reading = self._read(self._api)
        except Exception as exc:  # sockets, HTTP, JSON: all mean "not readable now"
            self._inactive_since = None  # only "not in a swarm" answers in a row count
            tasks = self._engine_tasks(exc)
            self.close()
            # Role and node ID as last read: not knowing is no reason to forget them
            # (the gauge maps this node to Swarm's word on it by its ID).
            last = self._last_known
            reading = SwarmReading(
                ok=False,
                error=describe_docker_error(exc, self._base_url, self._timeout_s),
                role=last.role if last else "none",
                node_id=last.node_id if last else None,
                hostname=last.hostname if last else None,
                tasks_by_service=None if tasks is None else tasks.by_service,
                own_tasks=0 if tasks is None else tasks.own,
            )
        else:
            if reading.node_id is not None:
                self._last_known = reading
        self._log_change(reading)
        return reading

    def _engine_tasks(self, exc: Exception) -> EngineTasks | None:
        """The engine's own task containers, where dockerd answers but a Swarm call did
        not (a restarted manager's /info waits on Raft for seconds): never 0 tasks it
        did not count. None (unknown) where dockerd is gone or refused the connection."""
        if self._api is None or not dockerd_answers(exc):
            return None
        try:
            return engine_tasks(self._api, self._stack)
        except Exception:
            return None

    @property
    def api_version(self) -> str | None:
        """The Docker API version negotiated, while Docker is read (any thread)."""
        api = self._api
        return None if api is None else api.api_version

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
        self._api = self._info = self._engine = self._tasks = self._view = None
        self._short_since.clear()

    def _log_change(self, reading: SwarmReading) -> None:
        """Say why once, and say when it is fixed: not a line every interval."""
        if reading.error != self._last_error:
            if reading.error is not None:
                log.warning("no Swarm data: %s; going on with host load alone", reading.error)
            elif self._last_error is not None:
                log.info("Docker: readable again (%s)", reading.role)
        self._last_error = reading.error
        quorum = reading.cluster.quorum_lost if reading.cluster is not None else None
        if quorum != self._last_quorum:
            if quorum is not None:
                log.warning("Swarm: %s; the cluster's totals are unknown until it is back", quorum)
            elif self._last_quorum is not None:
                log.info("Swarm: quorum back")
        self._last_quorum = quorum

    def _read_info(self, api: DockerHttp) -> dict[str, Any]:
        now = time.monotonic()
        if self._info is None or now - self._info_time > self._info_max_age_s:
            self._info, self._info_time = api.get("/info"), now
        return self._info

    def _read(self, api: DockerHttp) -> SwarmReading:
        info = self._read_info(api)
        swarm = info.get("Swarm") or {}
        hostname = info.get("Name") or None
        state = swarm.get("LocalNodeState", "inactive")
        if state != "active":
            return self._not_active(api, state, hostname)
        self._inactive_since = None
        node_id = swarm.get("NodeID") or None
        role: Role = "manager" if swarm.get("ControlAvailable") else "worker"
        base = SwarmReading(ok=True, role=role, node_id=node_id, hostname=hostname)
        if self._cluster_mode != "none":
            reading = self._read_as_manager(api, base)
            if reading is not None:
                return reading
            base = replace(base, role="worker")
        return self._read_local(api, base)

    def _not_active(self, api: DockerHttp, state: str, hostname: str | None) -> SwarmReading:
        """dockerd answers, but not as a node of a swarm. A dockerd that is shutting down
        (or starting again) says "inactive" or "pending" for a moment: that is not who
        the node is, so its last role and Swarm node ID stand until Docker has said so
        for left_after_s in a row (then the node has left its swarm)."""
        self._info = None  # joining a swarm must show at the next sample
        why = "not in a swarm (docker swarm init, or join one)"
        if state not in ("inactive", ""):
            why = f"swarm state is {state}"
        now = time.monotonic()
        if self._inactive_since is None:
            self._inactive_since = now
        last = self._last_known
        if last is None or now - self._inactive_since > self._left_after_s:
            self._last_known = None
            return SwarmReading(ok=False, error=why, hostname=hostname)
        return self._read_unsure(
            api,
            SwarmReading(
                ok=False, error=why, role=last.role, node_id=last.node_id, hostname=hostname
            ),
        )

    def _read_local(self, api: DockerHttp, base: SwarmReading) -> SwarmReading:
        tasks = self._engine_tasks_kept(api)
        return replace(base, tasks_by_service=tasks.by_service, own_tasks=tasks.own)

    def _read_unsure(self, api: DockerHttp, base: SwarmReading) -> SwarmReading:
        """Where a Swarm call failed: the engine's tasks listed anew, not as kept (a hung
        dockerd may say nothing to the stream for a while; its tasks are then unknown)."""
        self._engine_changed = True
        return self._read_local(api, base)

    def _engine_tasks_kept(self, api: DockerHttp) -> EngineTasks:
        """This engine's task containers: as last listed, unless the stream said they
        changed, is not followed, or resync_s have passed (then listed again)."""
        now = time.monotonic()
        if (
            self._engine is None
            or self._changes is None
            or not self._changes.live
            or self._engine_changed
            or now - self._engine_at >= self._resync_s
        ):
            self._engine_changed = False
            self._engine, self._engine_at = engine_tasks(api, self._stack), now
        return self._engine

    def _read_as_manager(self, api: DockerHttp, info: SwarmReading) -> SwarmReading | None:
        """The cluster view where this node is a manager now; None where it is a worker.

        Every node asks /nodes, workers too: a worker's dockerd refuses at once (503, no
        Raft involved), and it is the only way a promotion shows within one interval —
        /info is too dear to read every sample, and a worker gets no node events.
        A manager whose store does not answer (an election, or quorum lost) says so
        and still counts its own engine's tasks: never 0 tasks it did not count.
        `info`: the reading as /info has it (role, node id), not yet leader.
        """
        deadline = self._probe_timeout_s
        try:
            nodes = api.get("/nodes", timeout_s=deadline)
            deadline = self._timeout_s
            me: dict[str, Any] = next((n for n in nodes if n.get("ID") == info.node_id), {})
            if info.role != "manager" or (me.get("Spec") or {}).get("Role") == "worker":
                self._info = None  # promoted, or being demoted: /info again next sample
            leader = bool((me.get("ManagerStatus") or {}).get("Leader", False))
            manager = replace(info, role="manager", leader=leader, sees_leader=leader_in(nodes))
            if not (leader or self._cluster_mode == "any"):
                self._tasks = None  # a leader again later lists them anew,
                self._short_since.clear()  # and times a short service from then
                return self._read_local(api, manager)
            services = read_services(api)
            tasks = self._tasks_kept(api, cluster_key(nodes, services))
        except DockerApiError as exc:
            text = str(exc)
            if exc.status == 503 and NOT_A_MANAGER in text:
                if WORKER_REFUSAL in text.lower():
                    if info.role == "manager":
                        self._info = None  # demoted since /info was read
                    return None
                if any(w in text.lower() for w in LEFT_WORDS):
                    raise  # left the Swarm: read() reads /info again, once
                # "Manager is being prepared": a manager (promoted, or restarted) not
                # yet in touch with the others. Its own engine's tasks still count.
                self._info = None
                why = f"a manager not yet in touch with the Swarm: {text}"[:300]
                return self._read_unsure(api, replace(info, role="manager", ok=False, error=why))
            if exc.status < 500 or not any(w in text.lower() for w in NO_LEADER_WORDS):
                # not the Swarm's store speaking: a proxy that refused, or one that is full
                if info.role == "worker":
                    self._engine_changed = True  # Docker said no: its tasks listed anew
                    return None  # a worker's own view needs no manager call
                why = f"Docker did not answer a manager's call: {text}"
            else:
                why = no_leader(exc)
                if info.role == "worker":
                    self._info = None  # promoted in an election, perhaps
            return self._read_unsure(api, replace(info, role="manager", ok=False, error=why))
        except TimeoutError:
            if info.role == "worker":
                # a worker's dockerd refuses /nodes at once: a busy one, or one promoted
                # in an election; /info says which at the next sample. A hung dockerd
                # answers nothing: its tasks are listed anew, not kept
                self._info = None
                self._engine_changed = True
                return None
            why = no_leader(f"the Swarm managers did not answer within {deadline:g} s")
            return self._read_unsure(api, replace(info, role="manager", ok=False, error=why))
        # its own tasks from its engine, as every other node counts them: right after
        # an election the new leader's task list can miss a task its engine runs
        # the list itself, not its id: the same list is the same at once; a new one is
        # compared in full (after a list anew only)
        made_of = (tasks, nodes, services, self._overdue(self._short))
        if self._view is None or made_of != self._view_of:
            self._view = cluster_view(nodes, services, tasks, self._stack, made_of[3])
            self._view_of = made_of
        self._settled = self._view.settled
        return replace(self._read_local(api, manager), cluster=self._view)

    def _tasks_kept(self, api: DockerHttp, key: tuple[Any, ...] | None) -> list[dict[str, Any]]:
        """The tasks Docker wants running: as last listed while the Swarm was settled and
        its nodes and services are as they were (same versions, same counts) for less
        than resync_s, and its own engine said nothing; else listed anew. A task that dies
        shows in its service's counts, unless a replacement runs before the next sample
        (then its node's count is right again within resync_s)."""
        now = time.monotonic()
        if (
            self._tasks is None
            or key is None
            or key != self._tasks_key
            or not self._settled
            or self._engine_changed  # a task of its own engine started or died
            or now - self._tasks_at >= self._resync_s
        ):
            self._tasks, self._tasks_key, self._tasks_at = read_tasks(api), key, now
            self._short = short_services(self._tasks)
        return self._tasks

    def _overdue(self, short: set[str]) -> frozenset[str]:
        """The services short of running tasks for over STARTING_GRACE_S in a row (on
        this agent's clock: a worker's own may be off): their tasks still starting are
        missing then. Per service, not per task: one whose healthcheck never passes is
        failed by Swarm and started anew, each new task as young as the last.
        short: the services short now (short_services)."""
        now = time.monotonic()
        self._short_since = {sid: self._short_since.get(sid, now) for sid in short}
        return frozenset(
            sid for sid, t0 in self._short_since.items() if now - t0 > STARTING_GRACE_S
        )


def short_services(tasks: list[dict[str, Any]]) -> set[str]:
    """The services with a task Swarm wants running that does not run (yet)."""
    return {
        t.get("ServiceID", "")
        for t in tasks
        if t.get("DesiredState") == "running" and (t.get("Status") or {}).get("State") != "running"
    }


NOT_A_MANAGER = "not a swarm manager"
# How long a service may be short while its tasks are `starting` (healthchecks not yet
# passed) and have them count as on their way: swarmgauge's image needs 10 s a task, lab
# 4's rolling update about 50 s in all; a task whose checks fail is failed by Swarm
# after its start period and retries (20 s + 2 × 10 s here), and a new one starts.
STARTING_GRACE_S = 60.0
WORKER_REFUSAL = "worker nodes can't be used"  # what a worker's dockerd says to /nodes
NO_LEADER_WORDS = ("leader", "quorum", "rpc error", "deadline")
LEFT_WORDS = ("swarm init", "swarm join")  # "…Use "docker swarm init" or "docker swarm join"…


def leadership_deadline(interval_s: float, timeout_s: float) -> float:
    """The /nodes probe's deadline: half an interval (at least 0.5 s, at most the Docker
    timeout), so a hung store is called "no leader" within the gauge's two-interval
    grace. A healthy manager answers /nodes in milliseconds, a Pi Zero W's in tens."""
    return min(timeout_s, max(0.5, interval_s / 2))


def no_leader(why: object) -> str:
    """The one line a manager says while its Raft store does not answer."""
    text = str(why).splitlines()[0] if str(why) else type(why).__name__
    return f"no Swarm leader (an election, or quorum lost): {text}"[:300]


# A task whose container has a healthcheck is running for Swarm once it is healthy:
# one still starting (or unhealthy) is not counted, here as in the cluster's totals.
ENGINE_TASK_FILTERS = json.dumps(
    {"label": [TASK_LABEL], "status": ["running"], "health": ["healthy", "none"]}
)


def engine_tasks(api: DockerHttp, stack: str | None = None) -> EngineTasks:
    """The Swarm task containers running on this engine, by service; own: the stack's."""
    return local_tasks(api.get("/containers/json", filters=ENGINE_TASK_FILTERS), stack)


def read_services(api: DockerHttp) -> list[dict[str, Any]]:
    """Services with their task counts."""
    # ServiceStatus exists from API 1.41 (Engine 20.10); cluster_view copes without it.
    if version_gte(api.api_version, "1.41"):
        services: list[dict[str, Any]] = api.get("/services", status="true")
        return services
    return list(api.get("/services"))


def read_tasks(api: DockerHttp) -> list[dict[str, Any]]:
    """The tasks Docker wants running."""
    return list(api.get("/tasks", filters=_filters(desired_state="running")))
