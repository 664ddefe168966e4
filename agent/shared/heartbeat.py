"""A file whose modification time says the work loop is alive (see agent.health).

The file also holds, as its text, how long the loop may stay quiet before it counts
as stuck: written once by the program that beats, so the healthcheck reads the limit
the program really runs with (its --interval may be a flag the healthcheck never sees).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

# The agent's --interval default: here, where the healthcheck (agent.health) finds it
# without importing the settings (it runs every 10 s on a Pi Zero W)
DEFAULT_INTERVAL_S = 5.0

log = logging.getLogger("agent.shared.heartbeat")

MIN_STUCK_AFTER_S = 30.0


def stuck_after(interval_s: float) -> float:
    """Quiet time after which a loop that beats every interval_s counts as stuck."""
    return max(MIN_STUCK_AFTER_S, 3 * interval_s)


class Heartbeat:
    """beat() touches the file (the first beat writes the limit into it); no path: nothing."""

    def __init__(self, path: str | None, stuck_after_s: float = MIN_STUCK_AFTER_S) -> None:
        self.path = Path(path) if path else None
        self.stuck_after_s = stuck_after_s
        self._written = False
        self._warned = False

    def beat(self) -> None:
        if self.path is None:
            return
        try:
            if self._written:
                try:
                    os.utime(self.path)
                    return
                except FileNotFoundError:
                    pass  # removed under us: write it again
            self.path.write_text(f"{self.stuck_after_s:g}\n")
            self._written = True
        except OSError as exc:
            if not self._warned:  # once: a read-only /tmp is no reason to stop
                log.warning("cannot write heartbeat %s: %s", self.path, exc.strerror)
                self._warned = True
