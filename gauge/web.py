"""The web view: a live page (dial + a row of 8 LEDs per node) pushed by server-sent
events, /api/cluster as JSON, and /metrics for Prometheus (made by gauge/metrics.py).
The page needs no build step and no CDN, so it works on a workshop network without
internet."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any

log = logging.getLogger("gauge.web")
KEEPALIVE_S = 15.0
REQUEST_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 64
MAX_SSE_CLIENTS = 32
# Prometheus' text format 0.0.4, which every Prometheus 2.x reads
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


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

    @property
    def snapshot(self) -> dict[str, Any]:
        """The newest snapshot (never changed once published)."""
        with self._cond:
            return self._snapshot

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


def content_security_policy(page: bytes) -> str:
    """Only the page's own inline script and style (by hash) and its own origin."""

    def hashes(tag: bytes) -> str:
        found = re.findall(rb"<%s>(.*?)</%s>" % (tag, tag), page, re.S)
        return " ".join(
            f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'" for body in found
        )

    return (
        f"default-src 'none'; script-src {hashes(b'script')}; style-src {hashes(b'style')}; "
        "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def _handler(
    latest: Latest,
    page: bytes,
    sse: threading.BoundedSemaphore,
    metrics: Callable[[], bytes] | None,
) -> type[BaseHTTPRequestHandler]:
    csp = content_security_policy(page)

    class Handler(BaseHTTPRequestHandler):
        server_version = "swarmgauge"
        timeout = REQUEST_TIMEOUT_S  # a half-sent request, or a reader that stalls

        def version_string(self) -> str:
            return self.server_version  # no Python version for whoever asks

        def log_message(self, fmt: str, *args: Any) -> None:
            log.debug("%s %s", self.address_string(), fmt % args)

        def end_headers(self) -> None:
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("X-Frame-Options", "DENY")
            self.send_header("Content-Security-Policy", csp)
            self.send_header("Referrer-Policy", "no-referrer")
            super().end_headers()

        def _send(self, status: int, ctype: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            hosts = self.server.hosts  # type: ignore[attr-defined]
            if hosts is not None and self.headers.get("Host", "").lower() not in hosts:
                # bound to loopback: a page of another name is DNS rebinding, not a user
                self._send(421, "text/plain", b"unknown host\n")
                return
            path = self.path.split("?")[0]
            if path == "/":
                self._send(200, "text/html; charset=utf-8", page)
            elif path == "/api/cluster":
                self._send(200, "application/json", latest.body)
            elif path == "/metrics" and metrics is not None:
                self._send(200, METRICS_CONTENT_TYPE, metrics())
            elif path == "/events":
                if not sse.acquire(blocking=False):
                    self._send(503, "text/plain", b"too many live pages\n")
                    return
                try:
                    self._events()
                finally:
                    sse.release()
            else:
                self._send(404, "text/plain", b"not found\n")

        def _events(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            version = latest.version
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

    return Handler


class _Server(ThreadingHTTPServer):
    """A thread per connection, at most MAX_CONNECTIONS at once (more are closed at
    once), and a client that goes away is one debug line, not a traceback."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.hosts: frozenset[str] | None = None  # Host names accepted; None: any

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        log.debug("web: %s: %s", client_address, type(exc).__name__)
        if not isinstance(exc, OSError):  # a bug, not a client that left: one line
            log.warning("web: %s while serving %s", type(exc).__name__, client_address[0])


LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def allowed_hosts(host: str, port: int) -> frozenset[str] | None:
    """Host headers accepted when bound to loopback; None (any) when bound elsewhere."""
    if host not in LOOPBACK and not host.startswith("127."):
        return None
    names = {"localhost", "127.0.0.1", "[::1]", host if ":" not in host else f"[{host}]"}
    return frozenset({*names, *(f"{n}:{port}" for n in names)})


class WebView:
    """metrics: makes the text /metrics serves; None: /metrics is not found."""

    def __init__(
        self, host: str, port: int, latest: Latest, metrics: Callable[[], bytes] | None = None
    ) -> None:
        page = files("gauge").joinpath("page.html").read_bytes()
        self.latest = latest
        sse = threading.BoundedSemaphore(MAX_SSE_CLIENTS)
        self.server = _Server((host, port), _handler(latest, page, sse, metrics))
        # the Host names it answers to need the port it got (port 0: any free one)
        self.server.hosts = allowed_hosts(host, self.server.server_address[1])
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
