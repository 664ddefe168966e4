"""The host's CPU and memory from Linux's /proc: the few psutil calls the sampler makes.

psutil reads these very files on Linux, but importing it was a quarter of the agent's
start-up CPU under ARM1176 emulation (about 230 ms of 1.7 s). Off Linux (a laptop
without /proc), host_stats() gives psutil itself.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple


class Memory(NamedTuple):
    percent: float  # of memory in use: psutil's virtual_memory().percent


class ProcStats:
    """cpu_count, cpu_percent, getloadavg and virtual_memory, as psutil has them."""

    def __init__(self, proc: str = "/proc") -> None:
        self._stat = os.path.join(proc, "stat")
        self._meminfo = os.path.join(proc, "meminfo")
        self._last: tuple[int, int] | None = None  # (busy, total) jiffies at the last call

    def cpu_count(self) -> int | None:
        return os.cpu_count()

    def getloadavg(self) -> tuple[float, float, float]:
        return os.getloadavg()

    def cpu_percent(self, _interval: None = None) -> float:
        """All cores' use since the last call, 0 to 100 (the first call: 0.0)."""
        busy, total = self._cpu_times()
        last, self._last = self._last, (busy, total)
        if last is None or total <= last[1]:
            return 0.0
        return max(0.0, min(100.0, 100.0 * (busy - last[0]) / (total - last[1])))

    def _cpu_times(self) -> tuple[int, int]:
        with open(self._stat, "rb") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal guest guest_nice: guest time is
        # in user and nice already; idle and iowait are not busy (as psutil counts)
        fields += [0] * (10 - len(fields))
        total = sum(fields[:8])
        return total - fields[3] - fields[4], total

    def virtual_memory(self) -> Memory:
        kib: dict[bytes, int] = {}
        with open(self._meminfo, "rb") as f:
            for line in f:
                name, _, rest = line.partition(b":")
                kib[name] = int(rest.split()[0])
        total = kib[b"MemTotal"]
        available = kib.get(b"MemAvailable")
        if available is None:  # kernels before 3.14
            available = kib.get(b"MemFree", 0) + kib.get(b"Buffers", 0) + kib.get(b"Cached", 0)
        return Memory(round(100.0 * (total - available) / total, 1) if total else 0.0)


def host_stats(proc: str = "/proc") -> Any:
    """ProcStats where Linux's /proc is there, else the psutil module."""
    if os.path.exists(os.path.join(proc, "stat")):
        return ProcStats(proc)
    import psutil  # macOS, Windows: a participant's laptop

    return psutil
