"""The host sampler: CPU, load average and memory (from /proc, or psutil off Linux), the
SoC temperature, the Pi's throttling flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.host.proc import host_stats
from agent.host.reading import HostReading
from agent.host.throttled import THROTTLED_PATH, read_throttled

THERMAL_ZONE = Path("/sys/class/thermal/thermal_zone0/temp")
# psutil sensor names, most wanted first: the Pi's SoC, then common PC ones.
PREFERRED_SENSORS = ("cpu_thermal", "soc_thermal", "coretemp", "k10temp", "acpitz")


class HostSampler:
    """Reads the host. `ps`: psutil's calls (default: agent.host.proc's host_stats())."""

    def __init__(
        self,
        ps: Any = None,
        thermal_path: Path = THERMAL_ZONE,
        throttled_path: Path = THROTTLED_PATH,
    ) -> None:
        self._ps = ps = host_stats() if ps is None else ps
        self._thermal_path = thermal_path
        # a Pi's firmware file is there from boot, or never: not looked for every sample
        self._throttled_path = throttled_path if throttled_path.exists() else None
        self._cpu_count: int = ps.cpu_count() or 1
        self._sensor = self._find_sensor()
        # the first cpu_percent(None) is a meaningless 0.0: prime it now so
        # the first read() reports the CPU use since construction.
        ps.cpu_percent(None)

    def read(self) -> HostReading:
        return HostReading(
            cpu_percent=float(self._ps.cpu_percent(None)),
            load_1m=float(self._ps.getloadavg()[0]),
            cpu_count=self._cpu_count,
            memory_percent=float(self._ps.virtual_memory().percent),
            temperature_c=self._temperature_c(),
            throttled=None
            if self._throttled_path is None
            else read_throttled(self._throttled_path),
        )

    def _find_sensor(self) -> str | None:
        """The psutil sensor to read, chosen once: sources do not appear later."""
        read_sensors = getattr(self._ps, "sensors_temperatures", None)
        if read_sensors is None:
            return None
        try:
            sensors = read_sensors()
        except OSError:
            return None
        for name in PREFERRED_SENSORS:
            if sensors.get(name):
                return name
        return next((name for name, entries in sensors.items() if entries), None)

    def _temperature_c(self) -> float | None:
        if self._sensor is not None:
            try:
                entries = self._ps.sensors_temperatures().get(self._sensor)
            except OSError:
                entries = None
            if entries:
                return round(float(entries[0].current), 1)
        try:
            millidegrees = int(self._thermal_path.read_text().strip())
        except (OSError, ValueError):
            return None
        return round(millidegrees / 1000.0, 1)
