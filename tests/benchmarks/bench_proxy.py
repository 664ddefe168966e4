"""Socket proxy budget (issue 11): what agent.proxy adds to the agent's GETs.

    .venv/bin/python -m tests.benchmarks.bench_proxy [ROUNDS]   (as root: a test dockerd)

The proxy runs as its own process, in front of a test dockerd in swarm mode with 20
tasks. Each round makes the leader agent's GETs (/nodes, /services, /tasks,
/containers/json; /info every sample here, though the agent reads it once a minute)
straight to Docker and through the proxy. Prints per-request latency both ways, the
proxy's CPU per request, and its memory idle after the run; exits 1 when a target is
missed. Not a test: these machines are shared and noisy, so read the figures.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

from agent.docker.http import DockerHttp
from agent.docker.swarm import ENGINE_TASK_FILTERS
from tests.benchmarks.proc_stats import cpu_s
from tests.benchmarks.rows import row
from tests.peers.dockerd import Dockerd, create_service, wait_for_running
from tests.peers.net import free_port, wait_for_port

TASKS = 20
IDLE_RSS_TARGET_MIB = 25.0
ADDED_LATENCY_TARGET_MS = 5.0  # per request, median
# the GETs of a leader's full sample, with the agent's own filters (the proxy wants
# exactly those)
GETS = [
    ("/info", {}),
    ("/nodes", {}),
    ("/services", {"status": "true"}),
    ("/tasks", {"filters": json.dumps({"desired-state": ["running"]})}),
    ("/containers/json", {"filters": ENGINE_TASK_FILTERS}),
]


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def timed_rounds(api: DockerHttp, rounds: int) -> list[float]:
    """Milliseconds per request, every GET of every round."""
    times = []
    for _ in range(rounds):
        for path, params in GETS:
            start = time.perf_counter()
            api.get(path, **params)
            times.append((time.perf_counter() - start) * 1000)
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with Dockerd() as daemon:
        create_service(daemon.client, "load", ["sleep", "3600"], replicas=TASKS)
        if not wait_for_running(daemon.client, "load", TASKS, timeout_s=120):
            raise SystemExit("the 20 tasks did not start")
        version = daemon.client.version()["ApiVersion"]
        port = free_port()
        proxy = subprocess.Popen(
            [sys.executable, "-m", "agent.proxy", f"127.0.0.1:{port}", str(daemon.socket)],
            stderr=subprocess.DEVNULL,
        )
        try:
            if not wait_for_port(port, 10):
                raise SystemExit("the proxy did not listen")
            started_rss = rss_mib(proxy.pid)
            direct = DockerHttp(daemon.base_url, version, 10)
            through = DockerHttp(f"tcp://127.0.0.1:{port}", version, 10)
            timed_rounds(direct, 5)  # warm both paths
            timed_rounds(through, 5)
            direct_ms = timed_rounds(direct, rounds)
            cpu_before = cpu_s(proxy.pid)
            through_ms = timed_rounds(through, rounds)
            proxy_cpu = cpu_s(proxy.pid) - cpu_before
            time.sleep(2)
            idle_rss = rss_mib(proxy.pid)
            direct.close()
            through.close()
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)

    requests = rounds * len(GETS)
    added = statistics.median(through_ms) - statistics.median(direct_ms)
    per_request_ms = proxy_cpu / requests * 1000
    print(f"socket proxy, {requests} GETs ({rounds} rounds of the leader's {len(GETS)}), "
          f"{TASKS} tasks")  # fmt: skip
    print(f"latency median: {statistics.median(direct_ms):.2f} ms direct, "
          f"{statistics.median(through_ms):.2f} ms through the proxy")  # fmt: skip
    print(f"latency p95: {p95(direct_ms):.2f} ms direct, {p95(through_ms):.2f} ms through")
    print(f"proxy CPU per request: {per_request_ms:.3f} ms")
    print(f"added latency (median): {added:.2f} ms; target {ADDED_LATENCY_TARGET_MS:g} ms, "
          f"ratio {added / ADDED_LATENCY_TARGET_MS:.2f}")  # fmt: skip
    ratio = idle_rss / IDLE_RSS_TARGET_MIB
    print(f"proxy memory: {started_rss:.1f} MiB at start, {idle_rss:.1f} MiB idle after; "
          f"target {IDLE_RSS_TARGET_MIB:g} MiB, ratio {ratio:.2f}")  # fmt: skip
    row("socket proxy: added latency per GET (median)", f"{added:.2f} ms",
        f"≤ {ADDED_LATENCY_TARGET_MS:g} ms", added / ADDED_LATENCY_TARGET_MS)  # fmt: skip
    row("socket proxy: CPU per GET", f"{per_request_ms:.3f} ms")
    row("socket proxy: memory idle", f"{idle_rss:.1f} MiB", f"≤ {IDLE_RSS_TARGET_MIB:g} MiB",
        ratio)  # fmt: skip
    missed = idle_rss > IDLE_RSS_TARGET_MIB or added > ADDED_LATENCY_TARGET_MS
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
