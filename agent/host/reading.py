"""One reading of the host, as plain data: what a node state's `host` object holds."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, TypedDict

# how many decimals each number keeps in a node state
DECIMALS = {"cpu_percent": 1, "load_1m": 2, "memory_percent": 1}


class Throttled(TypedDict):
    """A Pi's throttling flags (agent.host.throttled reads them)."""

    bits: int
    now: list[str]  # the flag names that hold now
    since_boot: list[str]  # and those that held at some time since boot


@dataclass(frozen=True)
class HostReading:
    """cpu_percent: 0 to 100, averaged over all cores since the previous reading.
    load_1m: the 1-minute load average (compare with cpu_count: one core on a Pi Zero).
    memory_percent: 0 to 100, memory in use.
    temperature_c: SoC temperature in °C, None where the host does not say.
    throttled: a Pi's under-voltage and throttling flags, None off a Pi.

    A new reading is a field here (with a default), its source in this package and
    one line in the sampler; the node state carries every field (as_dict).
    """

    cpu_percent: float
    load_1m: float
    cpu_count: int
    memory_percent: float
    temperature_c: float | None
    throttled: Throttled | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, DECIMALS[k]) if k in DECIMALS else v for k, v in asdict(self).items()}
