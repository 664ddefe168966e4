"""The host's CPU, memory and temperatures from Linux's /proc and /sys: the few psutil
calls the sampler makes, with psutil's arithmetic.

psutil reads these very files on Linux, but importing it was a quarter of the agent's
start-up CPU under ARM1176 emulation (about 230 ms of 1.7 s). Off Linux (a laptop
without /proc), host_stats() gives psutil itself.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

HWMON = "/sys/class/hwmon"


class Memory(NamedTuple):
    percent: float  # of memory in use: psutil's virtual_memory().percent


class Temperature(NamedTuple):
    current: float  # °C: what the sampler reads of psutil's sensor entries


class ProcStats:
    """cpu_count, cpu_percent, getloadavg, virtual_memory and sensors_temperatures, as
    psutil has them."""

    def __init__(self, proc: str = "/proc", hwmon: str = HWMON) -> None:
        self._stat = os.path.join(proc, "stat")
        self._meminfo = os.path.join(proc, "meminfo")
        self._hwmon = hwmon
        self._last: list[int] | None = None  # the jiffies at the last call, by kind

    def cpu_count(self) -> int | None:
        return os.cpu_count()

    def getloadavg(self) -> tuple[float, float, float]:
        return os.getloadavg()

    def cpu_percent(self, _interval: None = None) -> float:
        """All cores' use since the last call, 0 to 100 (the first call: 0.0)."""
        now = self._cpu_times()
        last, self._last = self._last, now
        if last is None:
            return 0.0
        # a kind that went back (iowait may; idle does when a core goes off or on) is
        # no time at all, as psutil has it: else an idle Pi shows a spike
        delta = [max(0, a - b) for a, b in zip(now, last, strict=True)]
        total = sum(delta)
        if total == 0:
            return 0.0
        busy = total - delta[3] - delta[4]  # idle and iowait are not busy
        return max(0.0, min(100.0, 100.0 * busy / total))

    def _cpu_times(self) -> list[int]:
        """user nice system idle iowait irq softirq steal, in jiffies (guest time is in
        user and nice already, so the fields after these are left out)."""
        with open(self._stat, "rb") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
        return fields + [0] * (8 - len(fields))

    def virtual_memory(self) -> Memory:
        kib = _meminfo(self._meminfo)
        total = kib[b"MemTotal"]
        available = kib.get(b"MemAvailable")
        if available is None:  # kernels before 3.14
            available = kib.get(b"MemFree", 0) + kib.get(b"Buffers", 0) + kib.get(b"Cached", 0)
        available = max(0, min(total, available))  # (a container's lxcfs can say more)
        return Memory(round(100.0 * (total - available) / total, 1))

    def sensors_temperatures(self) -> dict[str, list[Temperature]]:
        """Each hwmon sensor's name and its first temperature (a Pi's SoC: cpu_thermal)."""
        found: dict[str, list[Temperature]] = {}
        try:
            entries = sorted(e for e in os.listdir(self._hwmon) if e.startswith("hwmon"))
        except OSError:
            return found
        for entry in entries:
            folder = os.path.join(self._hwmon, entry)
            try:
                inputs = sorted(f for f in os.listdir(folder) if _is_temperature(f))
                if not inputs:
                    continue
                with open(os.path.join(folder, "name"), encoding="ascii") as f:
                    name = f.read().strip()
                with open(os.path.join(folder, inputs[0]), "rb") as raw:
                    millidegrees = int(raw.read().strip())
            except (OSError, ValueError):
                continue  # a sensor that cannot be read now (some fail with EIO)
            found.setdefault(name, []).append(Temperature(millidegrees / 1000.0))
        return found


def _is_temperature(file: str) -> bool:
    return file.startswith("temp") and file.endswith("_input")


def _meminfo(path: str) -> dict[bytes, int]:
    """/proc/meminfo's numbers by name (kB), MemTotal among them, or ValueError."""
    kib: dict[bytes, int] = {}
    with open(path, "rb") as f:
        for line in f:
            name, _, rest = line.partition(b":")
            value = rest.split()[:1]
            if value and value[0].isdigit():
                kib[name] = int(value[0])
    if not kib.get(b"MemTotal"):
        raise ValueError(f"{path} gives no MemTotal")
    return kib


def host_stats(proc: str = "/proc") -> Any:
    """ProcStats where Linux's /proc says what it needs, else the psutil module."""
    try:
        _meminfo(os.path.join(proc, "meminfo"))
        stats = ProcStats(proc)
        stats.cpu_percent()
        return stats
    except (OSError, ValueError):
        import psutil  # macOS, Windows: a participant's laptop

        return psutil
