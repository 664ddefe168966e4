"""How every swarmgauge program stops: SIGTERM (docker stop, systemd) or SIGINT (Ctrl-C)."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType


def stop_event(log: logging.Logger | None = None) -> threading.Event:
    """An event that SIGTERM and SIGINT set, saying so on `log` if given.

    Python as PID 1 (in a container) ignores SIGTERM without a handler: without this,
    `docker stop` waits 10 s and kills.
    """
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        if log is not None:
            log.info("%s received: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop
