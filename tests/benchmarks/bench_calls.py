"""Docker API calls the agent makes (issue 23): an idle worker, an idle manager and the
leader of a real three-node Swarm, each agent at a 1 s interval, counted by a relay
in front of its node's dockerd.

    .venv/bin/python -m tests.benchmarks.bench_calls [SECONDS]   (root; default 60)

Swarm3's node 1 leads, node 2 is promoted to manager, node 3 stays a worker; 20 tasks
of one service spread over them; nothing changes while counting. The event stream
(one long GET /events, opened again after each silent --resync) is counted apart.
"""

from __future__ import annotations

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
from tests.peers.dockerd import create_service, wait_for_running
from tests.peers.swarm3 import Swarm3

TASKS = 20
TARGETS = {"idle worker": 2, "idle manager": 12, "leader": 12}  # calls a minute
_PATH = re.compile(r"[A-Z]+ (?:/v[0-9.]+)?(/[a-z_/]+)")


def main() -> int:
    duration_s = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    work = Path(tempfile.mkdtemp(prefix="sg-calls-"))
    with Swarm3() as swarm, Broker(work) as broker:
        leader, manager, worker = swarm.nodes
        assert manager.node_id is not None
        spec = leader.client.api.inspect_node(manager.node_id)
        leader.client.api.update_node(
            manager.node_id, spec["Version"]["Index"], {**spec["Spec"], "Role": "manager"}
        )
        create_service(leader.client, "load", ["sleep", "3600"], replicas=TASKS)
        if not wait_for_running(leader.client, "load", TASKS, timeout_s=120):
            raise SystemExit("the tasks did not start")
        roles = {"leader": leader, "idle manager": manager, "idle worker": worker}
        relays = {
            role: DockerRelay(work / f"{node.name}.sock", node.socket)
            for role, node in roles.items()
        }
        agents = [
            AgentProcess(
                ["--broker", broker.url, "--node-name", node.name, "--docker-host",
                 relays[role].base_url, "--interval", "1", "--display", "none"],
                work / f"{node.name}.log",
            ).start()
            for role, node in roles.items()
        ]  # fmt: skip
        try:
            time.sleep(10)  # past start-up: the first lists, the streams open
            since = time.time()
            time.sleep(duration_s)
            counted = {
                role: Counter(
                    m.group(1) if (m := _PATH.match(line)) else line
                    for at, line in relay.requests
                    if at >= since
                )
                for role, relay in relays.items()
            }
            alive = all(a.alive() for a in agents)
        finally:
            for agent in agents:
                agent.stop()
            for relay in relays.values():
                relay.close()
    if not alive:
        raise SystemExit("an agent died: see its log in " + str(work))
    per_minute = 60.0 / duration_s
    for role, counts in counted.items():
        streams = counts.pop("/events", 0)
        calls = sum(counts.values()) * per_minute
        detail = ", ".join(f"{p} {n * per_minute:.0f}" for p, n in counts.most_common())
        print(f"{role}: {calls:.0f} calls a minute ({detail}); {streams} event streams opened")
        target = TARGETS[role]
        row(f"Docker API calls a minute, {role}, 1 s interval (besides /events)",
            f"{calls:.0f}", f"≤ {target}", calls / target)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
