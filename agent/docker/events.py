"""Docker's container events: a Swarm task starting or dying wakes the sampler at once.

Docker has no task events; container events are local and immediate. The
interval poll stays as the fallback, so a broken stream only costs latency.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from agent.docker.readings import TASK_LABEL

log = logging.getLogger("agent.docker.events")

# health_status: a task with a healthcheck counts once it is healthy (Docker matches it
# as a prefix: "health_status: healthy", and nothing else)
FILTERS = {
    "type": ["container"],
    "event": ["start", "die", "health_status"],
    "label": [TASK_LABEL],
}


class ContainerEvents:
    """Calls wake() for every start, die and health change of a Swarm task's container
    on this engine.

    connect makes a docker.APIClient; the stream itself has no timeout (it waits
    for events), and is reopened after retry_s when it breaks.
    """

    def __init__(self, connect: Callable[[], Any], wake: Callable[[], None], retry_s: float = 5.0):
        self._connect = connect
        self._wake = wake
        self._retry_s = retry_s
        self._stop = threading.Event()
        self._stream: Any = None
        self._thread = threading.Thread(target=self._run, name="docker-events", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        stream = self._stream
        if stream is not None:
            try:
                stream.close()
            except Exception:
                pass  # closing a broken stream: nothing more to do
        if self._thread.ident is not None:  # started
            self._thread.join(timeout=1.0)

    def _run(self) -> None:
        broken = False
        while not self._stop.is_set():
            try:
                client = self._connect()
                self._stream = client.events(decode=True, filters=FILTERS)
                if broken:
                    log.info("Docker events: following again")
                    self._wake()  # things may have changed while we were not looking
                broken = False
                for _event in self._stream:
                    self._wake()
                    if self._stop.is_set():
                        return
                broken = True  # the stream ended: dockerd restarted or went away
            except Exception as exc:
                if not broken and not self._stop.is_set():
                    log.debug("Docker events: stream broken (%s); polling only", exc)
                broken = True
            finally:
                self._stream = None
            self._stop.wait(self._retry_s)
