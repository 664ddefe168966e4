"""The agent's CPU under ARM1176 emulation (qemu user mode, Debian's armel userland),
beside the same figures on this host: a ratio, and a Pi Zero W estimate from it.

    .venv/bin/python -m tests.benchmarks.bench_arm      (as root: debootstrap, binfmt)

Per sample: the host reading, the strain, the node snapshot and the LED frame (Docker
off: its cost is dockerd's answer and a JSON parse, measured on the host by
bench_agent and bench_scale). Start-up: the CPU of one `--once` run, imports included.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.benchmarks.rows import row
from tests.peers.armv6 import make_armel_rootfs_tar, qemu_arm_binfmt
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


def child_cpu_s(argv: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


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
        for name, python, environ in (("host", host, host_env), ("arm1176", arm, env)):
            out = subprocess.run([*python, "-c", PER_SAMPLE], env=environ, check=True,
                                 capture_output=True, text=True).stdout  # fmt: skip
            once = [*python, "-m", "agent", "--once", "--docker-host", "none", "--broker", "none"]
            figures[name] = (json.loads(out), child_cpu_s(once, environ))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (host_ms, host_s), (arm_ms, arm_s) = figures["host"], figures["arm1176"]
    row("agent CPU per sample (Docker off), host", f"{host_ms:.2f} ms")
    row("agent CPU per sample (Docker off), emulated ARM1176", f"{arm_ms:.1f} ms",
        f"ratio to host {arm_ms / host_ms:.0f}×")  # fmt: skip
    row("agent start-up CPU (--once), host", f"{host_s:.2f} s")
    row("agent start-up CPU (--once), emulated ARM1176", f"{arm_s:.1f} s",
        f"ratio to host {arm_s / host_s:.0f}×")  # fmt: skip
    worst_ms, worst_s = arm_ms * WORST, arm_s * WORST
    share = f"worst {worst_ms / 5000 * 100:.2f} % of the core at a 5 s interval"
    row(f"Pi Zero W estimate ({ASSUMPTION}): CPU per sample, start-up CPU",
        f"{arm_ms:.0f}–{worst_ms:.0f} ms, {arm_s:.1f}–{worst_s:.1f} s", share)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
