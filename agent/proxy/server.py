"""A Docker socket proxy that lets through exactly the GETs the agent needs.

    python3 -m agent.proxy LISTEN [UPSTREAM]

LISTEN is a unix socket path (/run/swarmgauge/docker.sock) or HOST:PORT; UPSTREAM
is Docker's socket (default /var/run/docker.sock). The Swarm stack runs it on every
node beside the agent, sharing a node-local volume (see workshop/stack.yml).

What a compromised agent container can read through it, and no more: the engine's
version and /info (host name, kernel, OS, CPU and memory, the Swarm's node and
cluster IDs, the managers' addresses); on a manager, the node list (host names,
addresses, labels, engine versions), every service's spec (image, command,
environment, labels, published ports: keep secrets in Docker secrets, which are
never shown) and the running tasks; its own engine's running Swarm-task containers
(names, images, labels, ports, mounts); and their start, die and health events, live only.
Nothing it can write, start, stop, exec, attach or copy; no logs, no other container,
no secrets, configs or join tokens.

GET alone is no policy: archives, exports, logs and a manager's join tokens are GETs.
What passes (the ALLOWED table): GET or HEAD of /_ping, /version, /info, /nodes,
/services, /tasks, /containers/json and /events, with or without a /vX.Y prefix, with
only the query parameters the agent sends. Where it sends `filters` they are required,
with exactly its filter names, its values alone, and `true` for each value given as an
object: Moby counts an object's keys whatever their value (filters/parse.go), so
`{"event": {"start": true, "": false}}` would be every event, exec commands included.
Everything else gets 403 and the connection is closed: other methods and paths, a
body (Content-Length other than 0, Transfer-Encoding), Upgrade or Expect, bare LF line
ends, NUL, folded headers, absolute-form targets, `%` or dot segments in the path, a
head over 8 KiB, and any byte after the head (no pipelining).

Nothing the client sent is ever copied upstream: the head is parsed by h11 (a
strict HTTP/1.1 parser), checked, and a new request is built from the parsed fields
and sent on a fresh upstream connection with `Connection: close`; its answer is
relayed back and both connections end. Bounded: at most MAX_CONNECTIONS at once (more
are refused with 503), at most MAX_EVENT_STREAMS of them /events streams (the agent
needs one), HEAD_TIMEOUT_S to send a head, ANSWER_TIMEOUT_S of upstream silence
(except /events, which streams until either side leaves or EVENTS_LIFETIME_S ends
it: the agent opens it again), and a short record of recent requests for tests,
never a growing history.
"""

from __future__ import annotations

import json
import logging
import re
import selectors
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Self
from urllib.parse import unquote_plus

import h11

from agent.docker.readings import TASK_LABEL
from agent.shared.logs import setup_logging
from agent.shared.signals import stop_event

log = logging.getLogger("agent.proxy")
DOCKER_SOCKET = "/var/run/docker.sock"

MAX_HEAD = 8 * 1024
MAX_CONNECTIONS = 32
MAX_EVENT_STREAMS = 4  # the agent holds one; a restarted agent's overlaps a moment
EVENTS_LIFETIME_S = 3600.0
HEAD_TIMEOUT_S = 10.0
ANSWER_TIMEOUT_S = 60.0
CHUNK = 64 * 1024

# path (after an optional /vX.Y) → parameter → the values allowed: for `filters`, each
# filter's allowed values (a JSON object on the wire). Exactly what the agent sends:
# no all=1 (every container's command line), no since= (a replay of old events).
ALLOWED: Mapping[str, Mapping[str, object]] = {
    "/_ping": {},
    "/version": {},
    "/info": {},
    "/nodes": {},
    "/services": {"status": {"true"}},
    "/tasks": {"filters": {"desired-state": {"running"}}},
    "/containers/json": {
        "filters": {"label": {TASK_LABEL}, "status": {"running"}, "health": {"healthy", "none"}}
    },
    "/events": {
        "filters": {
            "type": {"container"},
            "event": {"start", "die", "health_status"},
            "label": {TASK_LABEL},
        }
    },
}
# without its filters a list is every task, every container, every event: required
REQUIRED = {path: {"filters"} for path, params in ALLOWED.items() if "filters" in params}
_PATH = re.compile(r"(?:/v[0-9]{1,2}\.[0-9]{1,3})?(/[A-Za-z_]+(?:/json)?)")
_PARAM = re.compile(r"([a-z]+)=([A-Za-z0-9._~+-]|%[0-9A-Fa-f]{2})*")
_BARE_LF = re.compile(rb"(?<!\r)\n")


class Refused(Exception):
    """A request that does not pass; str() says why in a few words."""


def check_head(head: bytes) -> tuple[bytes, bytes, str]:
    """(method, target, allowed path) of one request head (ending in CRLF CRLF), or Refused."""
    if len(head) > MAX_HEAD:
        raise Refused("head over 8 KiB")
    if _BARE_LF.search(head) or b"\0" in head:
        raise Refused("bare LF or NUL in the head")
    if re.search(rb"\r\n[ \t]", head):
        raise Refused("folded header")
    parser = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
    parser.receive_data(head)
    try:
        event = parser.next_event()
    except h11.RemoteProtocolError as exc:
        raise Refused(f"not HTTP/1.1: {exc}") from None
    if not isinstance(event, h11.Request):
        raise Refused("incomplete head")
    if event.http_version not in (b"1.1", b"1.0"):
        raise Refused(f"HTTP/{event.http_version.decode(errors='replace')}")
    if event.method not in (b"GET", b"HEAD"):
        raise Refused(f"method {event.method.decode(errors='replace')[:16]}")
    for name, value in event.headers:
        if name == b"content-length" and value != b"0":
            raise Refused("a body (Content-Length)")
        if name in (b"transfer-encoding", b"upgrade", b"expect", b"te", b"trailer"):
            raise Refused(f"{name.decode()} header")
        if name == b"connection" and b"upgrade" in value.lower():
            raise Refused("connection upgrade")
    path = check_target(event.target.decode("ascii", errors="replace"))
    return event.method, event.target, path


def check_target(target: str) -> str:
    """The allowed path target asks for (no version prefix), or Refused: only allowed
    paths, with only their allowed parameters and values, each at most once."""
    path, _, query = target.partition("?")
    match = _PATH.fullmatch(path)
    if match is None or match.group(1) not in ALLOWED:
        raise Refused(f"path {path[:80]!r}")
    allowed = ALLOWED[match.group(1)]
    seen: set[str] = set()
    for param in query.split("&") if query else ():
        m = _PARAM.fullmatch(param)
        name = m.group(1) if m else ""
        if m is None or name not in allowed or name in seen:
            raise Refused(f"query {param[:40]!r} on {match.group(1)}")
        seen.add(name)
        value = unquote_plus(param.partition("=")[2])
        if name == "filters":
            check_filters(value, allowed[name])  # type: ignore[arg-type]
        elif value not in allowed[name]:  # type: ignore[operator]
            raise Refused(f"{name}={value[:20]!r} on {match.group(1)}")
    if missing := REQUIRED.get(match.group(1), set()) - seen:
        raise Refused(f"{match.group(1)} without {', '.join(sorted(missing))}")
    return match.group(1)


def check_filters(text: str, allowed: Mapping[str, set[str]]) -> None:
    """Docker's filters JSON, {"name": [values]} or {"name": {value: true}}: exactly the
    allowed names, each with allowed values only (at least one), every object value
    `true` (Moby takes an object's keys whatever their values)."""
    if len(text) > 1024:
        raise Refused("filters over 1 KiB")
    try:
        filters = json.loads(text, object_pairs_hook=_no_repeated_keys)
    except (ValueError, RecursionError):
        raise Refused("filters not JSON, or a name given twice") from None
    if not isinstance(filters, dict):
        raise Refused("filters not an object")
    if set(filters) != set(allowed):
        names = ", ".join(sorted(str(n)[:20] for n in set(filters) ^ set(allowed)))
        raise Refused(f"filters not exactly the agent's (differ in {names})")
    for name, values in filters.items():
        if isinstance(values, dict):
            if not all(v is True for v in values.values()):
                raise Refused(f"filter {name} with a value other than true")
            values = list(values)
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) and v in allowed[name] for v in values)
        ):
            raise Refused(f"filter {name}={str(values)[:40]}")


def _no_repeated_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object whose keys are each given once: which of two a parser keeps is
    the parser's choice, and Docker's is not this one."""
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key given twice")
    return dict(pairs)


def upstream_request(method: bytes, target: bytes) -> bytes:
    """A fresh request from the parsed fields alone: nothing of the client's is copied."""
    return b"%s %s HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n" % (method, target)


def _answer(status: bytes) -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % status


FORBIDDEN = _answer(b"403 Forbidden")
BUSY = _answer(b"503 Service Unavailable")
BAD_GATEWAY = _answer(b"502 Bad Gateway")


class SocketProxy:
    """Listens on `listen`, serves every connection in a thread of its own (bounded)."""

    def __init__(
        self,
        listen: str,
        upstream: str = DOCKER_SOCKET,
        max_connections: int = MAX_CONNECTIONS,
        head_timeout_s: float = HEAD_TIMEOUT_S,
        max_event_streams: int = MAX_EVENT_STREAMS,
        events_lifetime_s: float = EVENTS_LIFETIME_S,
    ) -> None:
        self.upstream = upstream
        self.head_timeout_s = head_timeout_s
        self.events_lifetime_s = events_lifetime_s
        self._event_slots = threading.BoundedSemaphore(max_event_streams)
        self.recent: deque[str] = deque(maxlen=256)  # "GET /v1.41/info" or "refused: why"
        self.counts = {"allowed": 0, "refused": 0, "busy": 0}
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._logged_at = 0.0
        self._unlogged = 0
        self._closing = False
        if listen.startswith("/"):
            Path(listen).unlink(missing_ok=True)
            self._listener = socket.socket(socket.AF_UNIX)
            self._listener.bind(listen)
            Path(listen).chmod(0o660)
            self._listener.listen(64)
        else:
            host, _, port = listen.rpartition(":")
            self._listener = socket.create_server((host or "127.0.0.1", int(port)))
        self.address = self._listener.getsockname()
        self._thread = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() in its thread
        except OSError:
            pass
        self._listener.close()
        self._thread.join(timeout=2)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _addr = self._listener.accept()
            except OSError as exc:
                if self._closing:
                    return
                log.warning("accept failed (%s); going on", exc.strerror or exc)
                time.sleep(0.1)  # e.g. out of file descriptors for a moment
                continue
            if not self._slots.acquire(blocking=False):
                self._count("busy")
                _send_and_close(client, BUSY)
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _count(self, what: str, line: str | None = None) -> None:
        with self._lock:
            self.counts[what] += 1
            if line is not None:
                self.recent.append(line)

    def _refuse(self, client: socket.socket, why: str) -> None:
        self._count("refused", f"refused: {why}")
        now = time.monotonic()
        with self._lock:  # one line now, then at most one every 10 s: no log flood
            self._unlogged += 1
            if now - self._logged_at >= 10.0:
                log.warning("refused %d request(s); latest: %s", self._unlogged, why)
                self._logged_at, self._unlogged = now, 0
        _send_and_close(client, FORBIDDEN)

    def _serve(self, client: socket.socket) -> None:
        try:
            try:
                head = _read_head(client, self.head_timeout_s)
                method, target, path = check_head(head)
            except Refused as why:
                self._refuse(client, str(why))
                return
            except OSError:
                client.close()
                return
            if path != "/events":
                self._count("allowed", f"{method.decode()} {target.decode()}")
                self._relay(client, upstream_request(method, target))
            elif not self._event_slots.acquire(blocking=False):
                self._count("busy", f"busy: {method.decode()} {target.decode()}")
                _send_and_close(client, BUSY)
            else:
                try:
                    self._count("allowed", f"{method.decode()} {target.decode()}")
                    self._relay(client, upstream_request(method, target), self.events_lifetime_s)
                finally:
                    self._event_slots.release()
        finally:
            self._slots.release()

    def _relay(self, client: socket.socket, request: bytes, stream_s: float | None = None) -> None:
        """Send the rebuilt request on a new upstream connection; relay its answer: until
        ANSWER_TIMEOUT_S of upstream silence, or for a stream until stream_s have passed."""
        upstream = socket.socket(socket.AF_UNIX)
        try:
            upstream.settimeout(HEAD_TIMEOUT_S)
            upstream.connect(self.upstream)
            upstream.sendall(request)
        except OSError:
            upstream.close()
            _send_and_close(client, BAD_GATEWAY)
            return
        client.settimeout(ANSWER_TIMEOUT_S)  # for sendall: a client that stops reading
        ends = None if stream_s is None else time.monotonic() + stream_s
        with selectors.DefaultSelector() as sel:
            sel.register(upstream, selectors.EVENT_READ)
            sel.register(client, selectors.EVENT_READ)
            try:
                while True:
                    wait = ANSWER_TIMEOUT_S if ends is None else ends - time.monotonic()
                    ready = sel.select(wait) if wait > 0 else []
                    if not ready:
                        break  # upstream silent too long, or the stream's time is up
                    if any(key.fileobj is client for key, _ in ready):
                        if client.recv(1, socket.MSG_PEEK):
                            break  # it sent more: nothing more is read, we are done
                        sel.unregister(client)  # a half-close: it still reads the answer
                        continue
                    data = upstream.recv(CHUNK)
                    if not data:
                        break
                    client.sendall(data)
            except OSError:
                pass
        for s in (upstream, client):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def _read_head(client: socket.socket, timeout_s: float) -> bytes:
    """Bytes up to and including the first CRLF CRLF; Refused on anything else."""
    deadline = time.monotonic() + timeout_s
    buf = b""
    while b"\r\n\r\n" not in buf:
        if len(buf) > MAX_HEAD:
            raise Refused("head over 8 KiB")
        if _BARE_LF.search(buf) or b"\0" in buf:  # say no now, not after a timeout
            raise Refused("bare LF or NUL in the head")
        client.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = client.recv(MAX_HEAD + 1 - len(buf))
        except TimeoutError:
            raise Refused("head not sent in time") from None
        if not chunk:
            raise OSError("client left")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    if rest:
        raise Refused("bytes after the head (a body, or pipelining)")
    return head + b"\r\n\r\n"


def _send_and_close(client: socket.socket, answer: bytes) -> None:
    try:
        client.settimeout(1.0)
        client.sendall(answer)
        client.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    client.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not 1 <= len(args) <= 2 or args[0].startswith("-"):
        print("usage: python3 -m agent.proxy LISTEN [UPSTREAM]", file=sys.stderr)
        return 2
    setup_logging("info")
    try:
        upstream = args[1] if len(args) == 2 else DOCKER_SOCKET
        proxy = SocketProxy(args[0], upstream).start()
    except (OSError, ValueError) as exc:
        print(f"agent.proxy: cannot listen on {args[0]}: {exc}", file=sys.stderr)
        return 2
    log.info("allow-listed GETs on %s for %s", args[0], proxy.upstream)
    stop_event(log).wait()
    proxy.close()
    return 0
