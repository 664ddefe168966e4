"""The web view: a live page (dial + a row of 8 LEDs per node) pushed by server-sent
events, /api/cluster as JSON, and /metrics for Prometheus (made by gauge/metrics.py).
The page needs no build step and no CDN, so it works on a workshop network without
internet.

One asyncio loop, in a thread of its own, serves every connection: an idle or slow
client costs a few KiB, not a thread. One laptop on the room's Wi-Fi cannot blank the
page for the others: each client address may hold at most MAX_PER_ADDRESS connections
and MAX_SSE_PER_ADDRESS live pages (more are answered 503 and closed), everyone
together MAX_CONNECTIONS and MAX_SSE_CLIENTS, and when those are full a newcomer takes
the oldest slot of the address that holds the most (a laptop with many addresses
cannot lock the others out either: Shares); a request head must arrive whole within
REQUEST_TIMEOUT_S (a trickle too), and a reader that stops reading is dropped after
SEND_TIMEOUT_S. Requests are parsed by h11; one request per connection.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
import resource
import socket
import threading
from collections.abc import Callable
from importlib.resources import files
from typing import Any

import h11

log = logging.getLogger("gauge.web")
KEEPALIVE_S = 5  # the page calls the gauge gone after two silent ones
REQUEST_TIMEOUT_S = 10.0
SEND_TIMEOUT_S = 10.0
MAX_HEAD = 8 * 1024
MAX_CONNECTIONS = 1000
MAX_PER_ADDRESS = 16
MAX_SSE_CLIENTS = 500
MAX_SSE_PER_ADDRESS = 4  # a projector's page and a few tabs; each phone has its own address
# Prometheus' text format 0.0.4, which every Prometheus 2.x reads
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Latest:
    """The newest snapshot; live pages are told when there is a newer one.

    It is turned into JSON only when someone asks (a page open, an API call): with
    1,000 nodes that is most of a refresh's cost, and nobody may be looking.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
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
        self._listeners: list[Callable[[], None]] = []

    @property
    def snapshot(self) -> dict[str, Any]:
        """The newest snapshot (never changed once published)."""
        with self._lock:
            return self._snapshot

    def publish(self, snapshot: dict[str, Any]) -> None:
        with self._lock:
            self._snapshot, self._body = snapshot, None
            self.version += 1
        self._tell()

    @property
    def body(self) -> bytes:
        with self._lock:
            if self._body is None:
                self._body = json.dumps(self._snapshot, separators=(",", ":")).encode()
            return self._body

    def listen(self, changed: Callable[[], None]) -> None:
        """changed() is called (from the publishing thread) on every publish and close."""
        self._listeners.append(changed)

    def close(self) -> None:
        self.closed = True
        self._tell()

    def _tell(self) -> None:
        for changed in self._listeners:
            changed()


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


LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def allowed_hosts(host: str, port: int) -> frozenset[str] | None:
    """Host headers accepted when bound to loopback; None (any) when bound elsewhere."""
    if host not in LOOPBACK and not host.startswith("127."):
        return None
    names = {"localhost", "127.0.0.1", "[::1]", host if ":" not in host else f"[{host}]"}
    return frozenset({*names, *(f"{n}:{port}" for n in names)})


def _more_files(wanted: int) -> None:
    """Raise the soft limit on open files towards `wanted` (a Pi's default is 1024)."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            top = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, top), hard))
    except (OSError, ValueError):
        pass  # the bounds below hold anyway; only fewer connections fit


class Shares:
    """Who holds what: connections (their transports) by client address, oldest first.
    take() makes room, fairly: at most per_address for one address, and when `total`
    are held, the oldest of the address holding the most goes if it holds more than
    the newcomer will (so every address gets its share, however many one laptop has)."""

    def __init__(self, total: int, per_address: int) -> None:
        self.total = total
        self.per_address = per_address
        self.held: dict[str, dict[asyncio.WriteTransport, None]] = {}
        self.count = 0

    def take(self, address: str, transport: asyncio.WriteTransport) -> bool:
        mine = self.held.get(address, {})
        if len(mine) >= self.per_address:
            return False
        if self.count >= self.total:
            biggest = max(self.held, key=lambda a: len(self.held[a]))
            if len(self.held[biggest]) <= len(mine) + 1:
                return False  # every address has its share already
            oldest = next(iter(self.held[biggest]))
            self.give_back(biggest, oldest)
            oldest.abort()  # its handler ends on the broken connection
        self.held.setdefault(address, {})[transport] = None
        self.count += 1
        return True

    def give_back(self, address: str, transport: asyncio.WriteTransport) -> None:
        mine = self.held.get(address, {})
        if transport in mine:  # not given back already (an evicted one is, at once)
            del mine[transport]
            self.count -= 1
        if not mine:
            self.held.pop(address, None)


class Refusal(Exception):
    """An answer of an error status; str() is its one-line body."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status


class WebView:
    """Binds at once (an OSError if the port cannot be had); start() serves it.

    metrics: makes the text /metrics serves; None: /metrics is not found.
    """

    def __init__(
        self, host: str, port: int, latest: Latest, metrics: Callable[[], bytes] | None = None
    ) -> None:
        self.page = files("gauge").joinpath("page.html").read_bytes()
        self.csp = content_security_policy(self.page)
        self.latest = latest
        self.metrics = metrics
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.create_server((host, port), family=family, backlog=256)
        self.sock.setblocking(False)
        self.address = self.sock.getsockname()[:2]
        # the Host names it answers to need the port it got (port 0: any free one)
        self.hosts = allowed_hosts(host, self.address[1])
        _more_files(MAX_CONNECTIONS + 64)
        self.connections = Shares(MAX_CONNECTIONS, MAX_PER_ADDRESS)
        self.live_pages = Shares(MAX_SSE_CLIENTS, MAX_SSE_PER_ADDRESS)
        self._loop = asyncio.new_event_loop()
        self._changed: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="web", daemon=True)
        latest.listen(self._tell)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host if ':' not in host else f'[{host}]'}:{port}/"

    def start(self) -> None:
        self._thread.start()
        log.info("web view on %s", self.url)

    def close(self) -> None:
        self.latest.close()
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping)
            self._thread.join(timeout=5)
        else:
            self.sock.close()

    # --- the loop's thread -----------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.set_exception_handler(_loop_error)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._changed, self._stop = asyncio.Event(), asyncio.Event()
        server = await asyncio.start_server(self._connection, sock=self.sock, limit=MAX_HEAD)
        try:
            await self._stop.wait()
        finally:
            server.close()
            clients = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in clients:
                task.cancel()
            await asyncio.gather(*clients, return_exceptions=True)

    def _tell(self) -> None:
        """From the publishing thread: wake the live pages in the loop's."""
        if self._thread.is_alive():
            try:
                self._loop.call_soon_threadsafe(self._wake)
            except RuntimeError:
                pass  # the loop has just closed

    def _wake(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()  # the next change wakes the next waiters

    def _stopping(self) -> None:
        self._wake()
        if self._stop is not None:
            self._stop.set()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) else "local"
        taken = self.connections.take(address, writer.transport)
        try:
            if not taken:
                await _send(writer, _plain(503, "too many connections from your address"))
            else:
                await self._serve(reader, writer, address)
            writer.close()
            await asyncio.wait_for(writer.wait_closed(), SEND_TIMEOUT_S)
        except (OSError, TimeoutError, h11.ProtocolError) as exc:
            log.debug("web: %s: %s", address, type(exc).__name__)  # a client that left
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug, not a client: one line, and the server goes on
            log.warning("web: %s while serving %s", type(exc).__name__, address)
        finally:
            if taken:
                self.connections.give_back(address, writer.transport)
            writer.transport.abort()  # closed already, or a client that will not read

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, address: str
    ) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        try:
            request = await asyncio.wait_for(_request(conn, reader), REQUEST_TIMEOUT_S)
        except h11.RemoteProtocolError:
            await _send(writer, _plain(400, "bad request"))
            return
        if request is None:
            return  # it left, or sent nothing in time
        head = request.method == b"HEAD"
        try:
            status, ctype, body = self._answer(request, address)
        except Refusal as refusal:
            status, ctype, body = refusal.status, "text/plain", f"{refusal}\n".encode()
        if body is None:  # a live page, if this address may have one more
            if not self.live_pages.take(address, writer.transport):
                status, ctype, body = 503, "text/plain", b"too many live pages\n"
            else:
                try:
                    await self._events(conn, writer)
                finally:
                    self.live_pages.give_back(address, writer.transport)
                return
        answer = self._response(conn, status, ctype, len(body))
        if not head:
            answer += conn.send(h11.Data(data=body)) or b""
        await _send(writer, answer + (conn.send(h11.EndOfMessage()) or b""))

    def _answer(self, request: h11.Request, address: str) -> tuple[int, str, bytes | None]:
        """(status, content type, body) for a request; body None: the live stream."""
        if request.method not in (b"GET", b"HEAD"):
            raise Refusal(405, "only GET")
        host = dict(request.headers).get(b"host", b"").decode("latin-1").lower()
        if self.hosts is not None and host not in self.hosts:
            # bound to loopback: a page of another name is DNS rebinding, not a user
            raise Refusal(421, "unknown host")
        path = request.target.split(b"?")[0]
        if path == b"/":
            return 200, "text/html; charset=utf-8", self.page
        if path == b"/api/cluster":
            return 200, "application/json", self.latest.body
        if path == b"/metrics" and self.metrics is not None:
            return 200, METRICS_CONTENT_TYPE, self.metrics()
        if path == b"/events" and request.method == b"GET":
            return 200, "text/event-stream", None
        raise Refusal(404, "not found")

    def _response(self, conn: h11.Connection, status: int, ctype: str, length: int | None) -> bytes:
        headers = [
            ("Server", "swarmgauge"),  # no Python version for whoever asks
            ("Content-Type", ctype),
            ("Cache-Control", "no-store"),
            ("Connection", "close"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Content-Security-Policy", self.csp),
            ("Referrer-Policy", "no-referrer"),
        ]
        if length is not None:
            headers.append(("Content-Length", str(length)))
        return conn.send(h11.Response(status_code=status, headers=headers)) or b""

    async def _events(self, conn: h11.Connection, writer: asyncio.StreamWriter) -> None:
        """The newest snapshot now and on every change; an `alive` event (its data: the
        period) every KEEPALIVE_S between, so a page tells a cut link from a calm one."""
        await _send(writer, self._response(conn, 200, "text/event-stream", None))
        version = self.latest.version
        await _send(writer, _data(conn, b"retry: 2000\ndata: " + self.latest.body))
        while not self.latest.closed:
            changed = self._changed
            if self.latest.version == version and changed is not None:
                try:
                    await asyncio.wait_for(changed.wait(), KEEPALIVE_S)
                except TimeoutError:
                    await _send(writer, _data(conn, b"event: alive\ndata: %d" % KEEPALIVE_S))
                    continue
            if self.latest.closed:
                return
            if self.latest.version != version:
                version = self.latest.version
                await _send(writer, _data(conn, b"data: " + self.latest.body))


def _loop_error(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """What asyncio itself reports (a connection's task cancelled as the view closes,
    a client gone mid-write): a debug line, or one warning, never a traceback."""
    exc = context.get("exception")
    if exc is None or isinstance(exc, (asyncio.CancelledError, OSError, TimeoutError)):
        log.debug("web: %s", context.get("message"))
    else:
        log.warning("web: %s: %s", context.get("message"), type(exc).__name__)


async def _request(conn: h11.Connection, reader: asyncio.StreamReader) -> h11.Request | None:
    """The request head, parsed; None if the client left first."""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(4096))  # b"": the client closed
            continue
        return event if isinstance(event, h11.Request) else None


def _data(conn: h11.Connection, event: bytes) -> bytes:
    """One server-sent event, framed (chunked for HTTP/1.1)."""
    return conn.send(h11.Data(data=event + b"\n\n")) or b""


def _plain(status: int, text: str) -> bytes:
    """A whole short answer, for where no request was parsed (too many, or garbage)."""
    reason = {400: "Bad Request", 503: "Service Unavailable"}[status]
    body = f"{text}\n".encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\nServer: swarmgauge\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


async def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
    """Write, and wait until it is on its way: a reader that stops reading is dropped."""
    writer.write(data)
    await asyncio.wait_for(writer.drain(), SEND_TIMEOUT_S)
