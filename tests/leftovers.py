"""Processes the tests start and must end: found by what they run and when they began.

A process the suite started and did not end outlives it re-parented to init (a qemu
running the agent was found 97 minutes after a run). At the end of a session every
process started since the session began whose command line is one the tests run is
named, the run fails, and then they are ended.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# What the tests start: our programs, their peers, their emulators and browsers.
COMMANDS = re.compile(
    r"(-m (agent|gauge)\b|swarmgauge-(agent|gauge|load)|agent\.docker\.proxy|"
    r"\bmosquitto\b|\bamqtt\b|dockerd --host=unix:///tmp/sg|containerd --config /tmp/sg|"
    r"qemu-arm|prometheus-node-exporter|glances|chromedriver)"
)


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise RuntimeError("no btime in /proc/stat")


def started_at(pid: int) -> float:
    """When a process began, in seconds since the epoch."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def leftovers(since: float, exclude: set[int]) -> dict[int, str]:
    """pid -> command line of every process started since `since` that runs what the
    tests run, but for `exclude` (this process and its helpers)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in exclude:
            continue
        pid = int(entry.name)
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            begun = started_at(pid)
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile, or a kernel thread
        if cmdline and begun >= since - 1 and COMMANDS.search(cmdline):
            found[pid] = cmdline[:200]
    return found
