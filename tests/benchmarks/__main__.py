"""Every benchmark, one table:  tests/benchmarks/run   (as root; about 20 minutes)

Runs each bench in turn (its own output streams past, so progress shows), gathers the
rows they print, and prints one table, also written to tests/benchmarks/results.md
with the machine, the date and the versions. Figures, not verdicts: these machines are
shared and noisy, so a ratio over 1 is a place to look, and the exit status says only
whether every bench ran.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from tests.benchmarks.rows import HEAD

HERE = Path(__file__).resolve().parent
# (module, arguments): the agent beside node_exporter and the gauge for 60 s each
BENCHES = [
    ("bench_agent", []),
    ("bench_publish", ["60"]),
    ("bench_calls", ["60"]),
    ("bench_start", ["20"]),
    ("bench_scale", []),
    ("bench_leader", ["60"]),
    ("bench_gauge", ["60", "1000"]),
    ("bench_proxy", ["200"]),
    ("bench_display", ["30"]),
    ("bench_arm", []),
]


def tool_version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "absent"
    text = (out.stdout or out.stderr).strip()  # mosquitto -h says its version, exit 3
    return text.splitlines()[0][:80] if text else "?"


def machine() -> list[str]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.machine())  # fmt: skip
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return [
        f"- machine: {cpu}, {os.cpu_count()} cores, {mem_kib / 1024 / 1024:.1f} GiB; "
        f"{platform.system()} {platform.release()}",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- versions: Python {platform.python_version()}, swarmgauge {version('swarmgauge')}, "
        f"paho-mqtt {version('paho-mqtt')}, psutil {version('psutil')}, "
        f"docker SDK {version('docker')}; {tool_version(['dockerd', '--version'])}; "
        f"{tool_version(['mosquitto', '-h'])}; "
        f"{tool_version(['prometheus-node-exporter', '--version'])}; "
        f"{tool_version(['qemu-arm-static', '--version'])}",
    ]


def main() -> int:
    rows: list[str] = []
    failed: list[str] = []
    for name, args in BENCHES:
        print(f"\n== {name} {' '.join(args)}", flush=True)
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", f"tests.benchmarks.{name}", *args],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            if line.startswith("| "):
                rows.append(line.rstrip())
        if proc.wait() not in (0, 1):  # 1: a target missed, still figures
            failed.append(name)
        print(f"== {name}: {time.monotonic() - started:.0f} s", flush=True)
    skipped = [f"| {name} | did not run (see its output) | | |" for name in failed]
    table = "\n".join([HEAD, *rows, *skipped])
    text = "\n".join(["# Benchmarks", "", *machine(), "", table, ""])
    (HERE / "results.md").write_text(text)
    print("\n" + text)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
