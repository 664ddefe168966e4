"""Docker's event stream, followed: list once, then watch (the informer pattern).

The sampler keeps what it listed and lists again only where `Changes` says so: an
event came, or the stream was not followed for a moment (at start, after
a break, at every reopening: each is a gap), or resync_s have passed since it listed
(a missed event cannot outlive that). While the stream is not followed, `Changes.live`
is False and the sampler lists every sample, as it would without events.

Docker has no task events; a Swarm task's container events are local and immediate:
start, die, and health_status (a task with a healthcheck counts once it is healthy).
Docker sends nothing while nothing happens, so a hung dockerd or a cut proxy shows
only as silence: a stream silent for silence_s is closed and opened again at once,
and that reopening (a gap) is the resync.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from agent.docker.http import JsonStream
from agent.docker.readings import TASK_LABEL
from agent.shared.logs import SayOnce

log = logging.getLogger("agent.docker.events")

ENDED = "Docker ended the stream"

# health_status: a task with a healthcheck counts once it is healthy (Docker matches it
# as a prefix: "health_status: healthy", and nothing else)
FILTERS = {
    "type": ["container"],
    "event": ["start", "die", "health_status"],
    "label": [TASK_LABEL],
}


class Changes:
    """Whether the stream has said this engine's task containers changed since the
    sampler last looked, and whether it is followed at all (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = True
        self._live = False

    @property
    def live(self) -> bool:
        """Whether the stream is followed now: what is kept can be trusted between lists."""
        return self._live

    def mark(self) -> None:
        with self._lock:
            self._changed = True

    def take(self) -> bool:
        """Whether they changed since the last take (and forget it)."""
        with self._lock:
            changed, self._changed = self._changed, False
        return changed

    def followed(self, live: bool) -> None:
        """The stream began (live) or ended: either way, what it did not see is a gap."""
        with self._lock:
            self._live = live
            self._changed = True


class Stream(Protocol):
    def __iter__(self) -> Any: ...
    def close(self) -> None: ...


class DockerEvents:
    """Follows the stream in a thread of its own: marks what changed, wakes the sampler.

    open_stream opens it (raises when Docker cannot be read); it is opened again at
    once after a silent spell or an end after retry_s or more (the socket proxy ends
    streams after an hour), and after retry_s when it broke or ended sooner.
    """

    def __init__(
        self,
        open_stream: Callable[[], Stream],
        changes: Changes,
        wake: Callable[[], None],
        retry_s: float = 5.0,
    ) -> None:
        self._open = open_stream
        self._changes = changes
        self._wake = wake
        self._retry_s = retry_s
        self._stop = threading.Event()
        self._stream: Stream | None = None
        self._say = SayOnce(log, "Docker events: %s; listing every sample")
        self._thread = threading.Thread(target=self._run, name="docker-events", daemon=True)

    def start(self) -> None:
        """Start following (again calls: nothing more)."""
        if self._thread.ident is None:
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        stream = self._stream
        if stream is not None:
            stream.close()
        if self._thread.ident is not None:  # started
            self._thread.join(timeout=1.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._stream = self._open()
            except Exception as exc:
                self._say(_why(exc))
                self._stop.wait(self._retry_s)
                continue
            if self._say.problem is not None:
                log.info("Docker events: following again")
                self._say(None)
            self._changes.followed(True)
            self._wake()  # list what the stream did not see
            opened = time.monotonic()
            problem = self._follow(self._stream)
            if problem == ENDED and time.monotonic() - opened >= self._retry_s:
                problem = None  # the socket proxy ends a stream after an hour: reopened
            self._changes.followed(False)
            self._stream.close()
            self._stream = None
            if problem is not None and not self._stop.is_set():
                self._say(problem)
                self._stop.wait(self._retry_s)

    def _follow(self, events: Iterable[Any]) -> str | None:
        """Until the stream ends; None where it was only silent (reopened at once)."""
        try:
            for _event in events:
                self._changes.mark()
                self._wake()
        except TimeoutError:
            return None  # nothing for silence_s: reopened at once, a resync
        except Exception as exc:
            return _why(exc)
        return ENDED


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


def docker_event_stream(
    api_version: Callable[[], str | None], base_url: str, timeout_s: float, silence_s: float
) -> Callable[[], Stream]:
    """What opens the stream of this engine's task container events, in the API version
    the sampler negotiated (None: Docker not read yet, so not opened)."""

    def open_stream() -> Stream:
        version = api_version()
        if version is None:
            raise ConnectionError("Docker not read yet")
        return JsonStream(
            base_url,
            version,
            "/events",
            timeout_s=timeout_s,
            silence_s=silence_s,
            filters=json.dumps(FILTERS),
        )

    return open_stream
