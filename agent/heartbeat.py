"""A file whose modification time says the work loop is alive (see agent.health)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("agent.heartbeat")


class Heartbeat:
    """beat() touches the file; without a path it does nothing."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self._warned = False

    def beat(self) -> None:
        if self.path is None:
            return
        try:
            try:
                os.utime(self.path)
            except FileNotFoundError:
                self.path.touch()
        except OSError as exc:
            if not self._warned:  # once: a read-only /tmp is no reason to stop
                log.warning("cannot write heartbeat %s: %s", self.path, exc.strerror)
                self._warned = True
