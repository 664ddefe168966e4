"""swarmgauge-load: a workshop load generator, to make a node strain on purpose.

    swarmgauge-load --cpu 0.5 --memory-mb 50 --seconds 120

Busy for `cpu` of every 100 ms (0 to 1 of one core), holding `memory-mb` of memory,
for `seconds` (default: until stopped). Run it as a Swarm service and scale it:
    docker service create --name load swarmgauge:latest swarmgauge-load --cpu 0.3
    docker service scale load=6
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence

from agent.shared.heartbeat import Heartbeat
from agent.shared.settings.options import (
    Option,
    fraction,
    number_between,
    parse_options,
    whole_between,
)
from agent.shared.settings.start import HEARTBEAT_OPTION, load_settings
from agent.shared.signals import stop_event

PERIOD_S = 0.1


def load_options(argv: Sequence[str] | None, environ: object) -> dict[str, object]:
    return parse_options(
        "swarmgauge-load",
        "Makes CPU and memory load, for the workshop.",
        [
            Option("--cpu", fraction, 0.5, "share of one core to keep busy", "0..1"),
            Option("--memory-mb", whole_between(0, 65536), 0, "memory to hold, in MiB", "MB"),
            Option("--seconds", number_between(0.1, 1e7), None, "stop after this long", "SECONDS"),
            HEARTBEAT_OPTION,  # the image sets it: its healthcheck reads it
        ],
        argv,
        environ,  # type: ignore[arg-type]
    )


def burn(
    cpu: float, seconds: float | None, stop: threading.Event, heartbeat: Heartbeat | None = None
) -> None:
    """Busy for cpu × PERIOD_S, then asleep for the rest of each period; a heartbeat a second."""
    end = None if seconds is None else time.monotonic() + seconds
    next_beat = 0.0
    while not stop.is_set() and (end is None or time.monotonic() < end):
        start = time.monotonic()
        if heartbeat is not None and start >= next_beat:
            heartbeat.beat()
            next_beat = start + 1.0
        while time.monotonic() - start < cpu * PERIOD_S:
            pass  # the point of the program: a busy loop, on purpose
        stop.wait(max(0.0, PERIOD_S - (time.monotonic() - start)))


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings("swarmgauge-load", load_options, argv)
    if settings is None:
        return 2
    stop = stop_event()
    held = bytearray(int(settings["memory_mb"]) * 1024 * 1024)  # type: ignore[call-overload]
    for i in range(0, len(held), 4096):  # touch every page so it is really resident
        held[i] = 1
    print(
        f"swarmgauge-load: cpu {settings['cpu']:.0%} of a core, {settings['memory_mb']} MiB",
        file=sys.stderr,
    )
    heartbeat = Heartbeat(settings["heartbeat_file"])  # type: ignore[arg-type]
    burn(float(settings["cpu"]), settings["seconds"], stop, heartbeat)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
