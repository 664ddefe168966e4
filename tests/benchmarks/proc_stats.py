"""CPU time and peak memory of a running process, read from /proc."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_s(pid: int) -> float:
    """CPU time of all the process's threads, with ns precision (schedstat), in seconds.

    /proc/PID/stat counts whole clock ticks to whoever runs when a tick lands, which
    overbills a process that wakes on timers; the scheduler's own runtime does not.
    """
    return (
        sum(
            int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
            for tid in os.listdir(f"/proc/{pid}/task")
        )
        / 1e9
    )


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
