"""The leader of 1,000 running tasks (issue 23's row c): what its agent costs a sample,
and the Docker calls it makes a minute, while nothing changes.

    .venv/bin/python -m tests.benchmarks.bench_leader [SECONDS]   (root; default 60)

One real dockerd in swarm mode runs 1,000 `sleep` tasks (about 5 minutes to start and
4.7 GB here); its agent, at a 1 s interval, reads it through a relay that counts the
requests. bench_scale has the leader whose 1,000 tasks cannot be placed (never settled:
it lists them every sample); here they run, and the Swarm is settled.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.benchmarks.rows import row
from tests.helpers import AgentProcess
from tests.peers.broker import Broker
from tests.peers.docker_relay import DockerRelay
from tests.peers.dockerd import Dockerd, create_service
from tests.peers.net import wait_until

TASKS = 1000
_PATH = re.compile(r"[A-Z]+ (?:/v[0-9.]+)?(/[a-z_/]+)")


def cpu_seconds_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def containers(daemon: Dockerd, running: bool) -> int:
    found = daemon.client.api.containers(all=not running, quiet=True)
    return len(found)


def wait_for_containers(daemon: Dockerd, count: int, timeout_s: float) -> None:
    """Until `count` containers run (0: until none is left at all, running or not: a
    dockerd stopped before leaves their shims behind), saying how many every 30 s."""
    started = time.monotonic()

    def there() -> bool:
        n = containers(daemon, running=count > 0)
        print(f"  {time.monotonic() - started:4.0f} s: {n} containers, {count} wanted", flush=True)
        return n == count

    if not wait_until(there, timeout_s, 30):
        raise SystemExit(f"not {count} containers within {timeout_s:g} s")


def main() -> int:
    duration_s = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    work = Path(tempfile.mkdtemp(prefix="sg-leader-"))
    with Dockerd() as daemon, Broker(work) as broker:
        print(f"starting {TASKS} tasks…", flush=True)
        create_service(daemon.client, "load", ["sleep", "86400"], replicas=TASKS)
        try:
            wait_for_containers(daemon, TASKS, 1200)
            with DockerRelay(work / "relay.sock", daemon.socket) as relay:
                args = ["--broker", broker.url, "--node-name", "leader", "--docker-host",
                        relay.base_url, "--interval", "1", "--display", "none"]  # fmt: skip
                with AgentProcess(args, work / "agent.log") as agent:
                    time.sleep(15)  # past start-up: the first lists, the stream open
                    since, cpu_before = time.time(), cpu_seconds_of(agent.pid)
                    time.sleep(duration_s)
                    cpu_s = cpu_seconds_of(agent.pid) - cpu_before
                    if not agent.alive():
                        raise SystemExit(f"the agent died: {agent.log()[-500:]}")
                    counts = Counter(
                        m.group(1) if (m := _PATH.match(line)) else line
                        for at, line in relay.requests
                        if at >= since
                    )
        finally:
            print("stopping the tasks…", flush=True)
            daemon.client.api.remove_service("load")
            wait_for_containers(daemon, 0, 1200)
    counts.pop("/events", None)
    per_minute = 60.0 / duration_s
    calls = sum(counts.values()) * per_minute
    detail = ", ".join(f"{p} {n * per_minute:.0f}" for p, n in counts.most_common())
    print(f"{calls:.0f} calls a minute ({detail})")
    row(f"leader of {TASKS:,} running tasks, 1 s interval: agent CPU per sample",
        f"{cpu_s * 1000 / duration_s:.2f} ms")  # fmt: skip
    row(f"leader of {TASKS:,} running tasks: Docker calls a minute (besides /events)",
        f"{calls:.0f}", detail)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
