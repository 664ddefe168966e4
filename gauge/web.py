"""The web view: a live page (dial + a row of 8 LEDs per node) pushed by server-sent
events, and /api/cluster as JSON. Standard library only: no build step, no CDN, so
it works on a workshop network without internet."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any

log = logging.getLogger("gauge.web")
KEEPALIVE_S = 15.0


class Latest:
    """The newest snapshot; SSE clients wait here for the next one.

    It is turned into JSON only when someone asks (a page open, an API call): with
    1,000 nodes that is most of a refresh's cost, and nobody may be looking.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.version = 0
        self._snapshot: dict[str, Any] = {
            "strain": None,
            "desired": None,
            "running": None,
            "totals_unknown": "starting",
            "nodes": [],
        }
        self._body: bytes | None = None
        self.closed = False

    def publish(self, snapshot: dict[str, Any]) -> None:
        with self._cond:
            self._snapshot, self._body = snapshot, None
            self.version += 1
            self._cond.notify_all()

    @property
    def body(self) -> bytes:
        with self._cond:
            if self._body is None:
                self._body = json.dumps(self._snapshot, separators=(",", ":")).encode()
            return self._body

    def wait_newer(self, version: int, timeout_s: float) -> int:
        with self._cond:
            self._cond.wait_for(lambda: self.version != version or self.closed, timeout_s)
            return self.version

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


def _handler(latest: Latest, page: bytes) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "swarmgauge"

        def log_message(self, fmt: str, *args: Any) -> None:
            log.debug("%s %s", self.address_string(), fmt % args)

        def _send(self, status: int, ctype: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?")[0]
            if path == "/":
                self._send(200, "text/html; charset=utf-8", page)
            elif path == "/api/cluster":
                self._send(200, "application/json", latest.body)
            elif path == "/events":
                self._events()
            else:
                self._send(404, "text/plain", b"not found\n")

        def _events(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            version = latest.version
            try:
                self.wfile.write(b"retry: 2000\ndata: " + latest.body + b"\n\n")
                self.wfile.flush()
                while not latest.closed:
                    newer = latest.wait_newer(version, KEEPALIVE_S)
                    if latest.closed:
                        break
                    if newer == version:
                        self.wfile.write(b": keepalive\n\n")
                    else:
                        version = newer
                        self.wfile.write(b"data: " + latest.body + b"\n\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the browser went away

    return Handler


class WebView:
    def __init__(self, host: str, port: int, latest: Latest) -> None:
        page = files("gauge").joinpath("page.html").read_bytes()
        self.latest = latest
        self.server = ThreadingHTTPServer((host, port), _handler(latest, page))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="web", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> None:
        self.thread.start()
        log.info("web view on %s", self.url)

    def close(self) -> None:
        self.latest.close()
        self.server.shutdown()
        self.server.server_close()
