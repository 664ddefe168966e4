"""The agent's CPU under ARM1176 emulation (qemu user mode, Debian's armel userland),
beside the same figures on this host: a ratio, and a Pi Zero W estimate from it.

    .venv/bin/python -m tests.benchmarks.bench_arm      (as root: debootstrap, binfmt)

Per sample: the host reading, the strain, the node snapshot and the LED frame (Docker
off: its cost is dockerd's answer and a JSON parse, measured on the host by
bench_agent and bench_scale). Start-up: the CPU of one `--once` run, imports included;
and, with Docker (a real dockerd, the agent its Swarm's leader) and a real broker, the
agent's start → its first state at a subscriber: the time, and the agent's CPU by then.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.rows import row
from tests.mqtt_watch import Watcher
from tests.peers.armv6 import make_armel_rootfs_tar, qemu_arm_binfmt
from tests.peers.broker import Broker
from tests.peers.dockerd import Dockerd
from tests.peers.images import REPO

# The estimate's assumption, stated in the table: a 1 GHz ARM1176 runs this Python as
# fast as its emulation on this host did, to within a factor of 3 either way (qemu's
# code translation costs ~5-20 host instructions per guest one; published CPython
# figures for a Pi Zero put it 20-40x behind one desktop x86 core). An estimate, not a
# measurement: the worst case (3x the emulated figure) is shown beside it.
ASSUMPTION = "≈ its emulation here, up to 3× slower"
WORST = 3.0

PER_SAMPLE = """
import json, statistics, time
SAMPLES = 30
from agent.docker.swarm import SwarmSampler
from agent.host import HostSampler
from agent.sample import sample_frame, sample_messages, take_sample
from agent.settings.config import load_agent_config
config = load_agent_config(["--docker-host", "none", "--broker", "none"], {})
host, swarm = HostSampler(), SwarmSampler(None)
times = []
for _ in range(SAMPLES):
    c = time.process_time()
    sample = take_sample(host, swarm, config.capacity)
    frame = sample_frame(sample, config)
    sample_messages(sample, "pi", config.capacity, config.interval_s, leds=frame)
    times.append((time.process_time() - c) * 1000)
print(json.dumps(statistics.median(times)))
"""


# --led-mode cluster and split: what one gauge state costs the agent that follows it
FOLLOW = """
import json, statistics, time
from agent.follow_gauge import GaugeFollower
follower = GaugeFollower("swarmgauge", lambda: None)
follower.take("swarmgauge/gauge/availability", b"online")
nodes = {"total": 20, "online": 19, "offline": 1, "stale": 0, "down": 0, "left": 0}
payloads = [
    json.dumps({"schema": 1, "time": "2026-11-30T12:00:00Z", "strain": i / 100,
                "desired": 40, "running": 40 - i % 3, "totals_unknown": None,
                "alarm": i > 90, "nodes": nodes}).encode()
    for i in range(100)
]
times = []
for payload in payloads * 3:
    c = time.process_time()
    follower.take("swarmgauge/gauge/state", payload)
    times.append((time.process_time() - c) * 1000)
print(json.dumps(statistics.median(times)))
"""


def child_cpu_s(argv: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


STARTS = 3  # start-ups with Docker, each way: the median is shown


def start_to_state(
    argv: list[str], env: dict[str, str], daemon: Dockerd, broker: Broker, name: str
) -> tuple[float, float]:
    """The agent started with Docker: seconds to its first state at a subscriber, and
    the CPU seconds it had spent by then (imports, connecting, the first sample)."""
    topic = f"swarmgauge/node/{name}/state"  # a name of its own: no retained state
    with Watcher(broker.host, broker.port, topic, "bench-arm") as watch:
        launched_at = time.time()
        agent = subprocess.Popen(
            [*argv, "-m", "agent", "--broker", broker.url, "--node-name", name,
             "--docker-host", daemon.base_url, "--interval", "60", "--display", "none",
             "--no-discovery"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            first = watch.wait_for(lambda m: m.topic == topic, 300)
            fields = Path(f"/proc/{agent.pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        finally:
            agent.terminate()
            agent.wait(timeout=30)
    if first is None:
        raise SystemExit("no state from the agent with Docker")
    return first.at - launched_at, cpu_s


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="sg-arm-"))
    try:
        with qemu_arm_binfmt():  # only to build the armel root the first time
            tar = make_armel_rootfs_tar(work / "debootstrap.log")
        root = work / "root"
        root.mkdir()
        subprocess.run(["tar", "-C", str(root), "-xf", str(tar)], check=True)
        site = work / "site"
        project = __import__("tomllib").loads((REPO / "pyproject.toml").read_text())["project"]
        deps = [d for d in project["dependencies"] if not d.startswith("psutil")]
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(site),
             "--only-binary=:all:", "--platform", "any", "--implementation", "py",
             "--python-version", "3.11", *deps],
            check=True,
        )  # fmt: skip
        shutil.copytree(REPO / "agent", site / "agent")
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site)}
        arm = ["qemu-arm-static", "-cpu", "arm1176", "-L", str(root), str(root / "usr/bin/python3")]
        host = [sys.executable]
        host_env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
        figures = {}
        follow_ms: dict[str, float] = {}
        with Dockerd() as daemon, Broker(work) as broker:
            for name, python, environ in (("host", host, host_env), ("arm1176", arm, env)):
                out = subprocess.run([*python, "-c", PER_SAMPLE], env=environ, check=True,
                                     capture_output=True, text=True).stdout  # fmt: skip
                follow = subprocess.run([*python, "-c", FOLLOW], env=environ, check=True,
                                        capture_output=True, text=True).stdout  # fmt: skip
                follow_ms[name] = json.loads(follow)
                once = [*python, "-m", "agent", "--once", "--docker-host", "none",
                        "--broker", "none"]  # fmt: skip
                starts = [
                    start_to_state(python, environ, daemon, broker, f"{name}-{i}")
                    for i in range(STARTS)
                ]
                to_state = statistics.median(s for s, _ in starts)
                cpu = statistics.median(c for _, c in starts)
                figures[name] = (json.loads(out), child_cpu_s(once, environ), to_state, cpu)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (host_ms, host_s, host_up, host_cpu) = figures["host"]
    (arm_ms, arm_s, arm_up, arm_cpu) = figures["arm1176"]
    row("agent CPU per sample (Docker off), host", f"{host_ms:.2f} ms")
    row("agent CPU per sample (Docker off), emulated ARM1176", f"{arm_ms:.1f} ms",
        f"ratio to host {arm_ms / host_ms:.0f}×")  # fmt: skip
    row("agent start-up CPU (--once), host", f"{host_s:.2f} s")
    row("agent start-up CPU (--once), emulated ARM1176", f"{arm_s:.1f} s",
        f"ratio to host {arm_s / host_s:.0f}×")  # fmt: skip
    row(f"agent start → first state with Docker (median of {STARTS}), host",
        f"{host_up:.2f} s, CPU {host_cpu:.2f} s")  # fmt: skip
    row(f"agent start → first state with Docker (median of {STARTS}), emulated ARM1176",
        f"{arm_up:.1f} s, CPU {arm_cpu:.1f} s",
        f"ratio to host {arm_up / host_up:.0f}×")  # fmt: skip
    row("a gauge state followed (--led-mode cluster): CPU per message, host",
        f"{follow_ms['host'] * 1000:.0f} µs")  # fmt: skip
    row("a gauge state followed (--led-mode cluster): CPU per message, emulated ARM1176",
        f"{follow_ms['arm1176']:.2f} ms",
        f"ratio to host {follow_ms['arm1176'] / follow_ms['host']:.0f}×")  # fmt: skip
    worst_ms, worst_s = arm_ms * WORST, arm_s * WORST
    share = f"worst {worst_ms / 5000 * 100:.2f} % of the core at a 5 s interval"
    row(f"Pi Zero W estimate ({ASSUMPTION}): CPU per sample, start-up CPU",
        f"{arm_ms:.0f}–{worst_ms:.0f} ms, {arm_s:.1f}–{worst_s:.1f} s", share)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
