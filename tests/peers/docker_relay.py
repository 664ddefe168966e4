"""A unix socket in front of a real dockerd that notes every request passing, and can
fail the way a network or a daemon does: swallow the event stream (answer /events,
then say nothing: every event lost) or hang (pass nothing more either way)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.peers.listener import hang_up, serve_each

OK_STREAM = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
)
_REQUEST_LINE = re.compile(rb"([A-Z]+) (\S+) HTTP/1\.[01]")


class DockerRelay:
    def __init__(self, path: Path, upstream: Path) -> None:
        self.path, self.upstream = path, upstream
        self.swallow_events = False
        self.hang = False
        self.requests: list[tuple[float, str]] = []  # (time.time(), "GET /v1.41/…")
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_UNIX)
        self._listener.bind(str(path))
        self._listener.listen(64)
        serve_each(self._listener, self._serve)

    @property
    def base_url(self) -> str:
        return f"unix://{self.path}"

    def count(self, path: str, since: float = 0.0) -> int:
        """Requests for path (after the /vX.Y prefix, before the query) since a time."""
        pattern = re.compile(rf"[A-Z]+ (/v[0-9.]+)?{re.escape(path)}(\?|$)")
        with self._lock:
            return sum(1 for at, line in self.requests if at >= since and pattern.match(line))

    def _serve(self, client: socket.socket) -> None:
        heads = _Heads(self._note)
        first = client.recv(65536)
        if not first:
            client.close()
            return
        heads.feed(first)
        if self.swallow_events and b"/events" in first.split(b"\r\n", 1)[0]:
            self._hold(client, OK_STREAM)
            return
        upstream = socket.socket(socket.AF_UNIX)
        try:
            upstream.connect(str(self.upstream))
        except OSError:
            client.close()
            return
        self._forward(upstream, first)
        threading.Thread(target=self._pipe, args=(upstream, client, None), daemon=True).start()
        self._pipe(client, upstream, heads)

    def _hold(self, client: socket.socket, answer: bytes) -> None:
        """Answer, then say nothing until the client leaves."""
        try:
            client.sendall(answer)
            while client.recv(65536):
                pass
        except OSError:
            pass
        finally:
            client.close()

    def _pipe(self, src: socket.socket, dst: socket.socket, heads: _Heads | None) -> None:
        try:
            while data := src.recv(65536):
                if heads is not None:
                    heads.feed(data)
                self._forward(dst, data)
        except OSError:
            pass
        finally:
            hang_up(src)
            hang_up(dst)

    def _forward(self, dst: socket.socket, data: bytes) -> None:
        while self.hang:  # a hung daemon: nothing moves, the connection stays open
            time.sleep(0.05)
        dst.sendall(data)

    def _note(self, line: str) -> None:
        with self._lock:
            self.requests.append((time.time(), line))

    def close(self) -> None:
        self.hang = False
        hang_up(self._listener)
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> DockerRelay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Heads:
    """The request lines in what a client sends (GETs: no bodies), across reads."""

    def __init__(self, note: Callable[[str], None]) -> None:
        self._note = note
        self._buffer = b""

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while b"\r\n\r\n" in self._buffer:
            head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
            match = _REQUEST_LINE.match(head)
            if match is not None:
                method, target = match.group(1).decode(), match.group(2).decode("ascii", "replace")
                self._note(f"{method} {target}")
        self._buffer = self._buffer[-65536:]
