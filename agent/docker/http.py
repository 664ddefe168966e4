"""Keep-alive GETs to the Docker Engine API over its unix socket or plain TCP.

Why not the SDK's client.nodes() and friends for these: each call goes through
requests' Session machinery (settings, cookies, hooks, adapters), which measured
twice the CPU of the whole sample on a leader with 20 tasks, and importing it was most
of the start-up under ARM emulation. The event stream is read here too (JsonStream),
for its deadline: the SDK's stream has none. Only GET is ever sent, so a read-only
socket proxy is enough.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

from agent.docker.address import check_docker_host
from agent.shared.errors import ConfigError, SwarmgaugeError


class DockerApiError(SwarmgaugeError, RuntimeError):
    """Docker answered a GET with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Docker API error {status}: {message}")
        self.status = status


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout_s: float) -> None:
        super().__init__("localhost", timeout=timeout_s)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def connection(base_url: str, timeout_s: float) -> http.client.HTTPConnection:
    """A connection (not yet open) to Docker's API at unix://PATH or tcp://HOST:PORT."""
    try:
        check_docker_host(base_url)
    except ValueError as exc:
        raise ConfigError(f"Docker host {base_url!r}: {exc}") from None
    parts = urlsplit(base_url)
    if parts.scheme == "unix":
        return _UnixConnection(parts.netloc + parts.path, timeout_s)
    assert parts.hostname and parts.port
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout_s)


def api_error(response: http.client.HTTPResponse, body: bytes) -> DockerApiError:
    """The error an answer of status 400 or more says, in Docker's words."""
    try:
        message = str(json.loads(body).get("message", "")).strip()
    except ValueError:
        message = body.decode(errors="replace").strip()
    return DockerApiError(response.status, message or response.reason)


# An answer's bound: /tasks is about 0.7 KB a task (some 90,000 fit), far more than a
# Pi Zero W should parse; a tcp:// endpoint sending without end is not read past it
MAX_ANSWER = 64 * 1024 * 1024


class TooLong(SwarmgaugeError, ValueError):
    """An answer over MAX_ANSWER: not read."""


class DockerHttp:
    """GET path → decoded JSON, on one connection kept open between samples.

    api_version: the version every path is asked in (None: unversioned, until
    use_version; agent.docker.connect asks /version first)."""

    def __init__(self, base_url: str, api_version: str | None, timeout_s: float) -> None:
        self._conn = connection(base_url, timeout_s)
        self.api_version = ""
        self._prefix = ""
        if api_version is not None:
            self.use_version(api_version)
        self._timeout_s = timeout_s

    def use_version(self, api_version: str) -> None:
        self.api_version = api_version
        self._prefix = f"/v{api_version}"

    def get(self, path: str, timeout_s: float | None = None, **params: str) -> Any:
        """timeout_s: a deadline for this request alone (default: the connection's)."""
        target = self._prefix + path + (f"?{urlencode(params)}" if params else "")
        deadline = self._timeout_s if timeout_s is None else timeout_s
        self._conn.timeout = deadline  # for a new connection
        if self._conn.sock is not None:
            self._conn.sock.settimeout(deadline)
        try:
            try:
                response = self._request(target)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # dockerd closed the idle keep-alive connection: open a new one, once
                self._conn.close()
                response = self._request(target)
            body = response.read(MAX_ANSWER + 1)
            if len(body) > MAX_ANSWER:
                raise TooLong(f"Docker's answer to {path} is over {MAX_ANSWER >> 20} MiB")
        except BaseException:
            # e.g. a timeout: the late answer must not be read as the next request's
            self._conn.close()
            raise
        if response.status >= 400:
            raise api_error(response, body)
        return json.loads(body)

    def _request(self, target: str) -> http.client.HTTPResponse:
        self._conn.request("GET", target, headers={"Accept": "application/json"})
        return self._conn.getresponse()

    def close(self) -> None:
        self._conn.close()


MAX_EVENT = 64 * 1024  # one event (a line of JSON); Docker's are well under 2 KiB


class JsonStream:
    """GET a stream of JSON values, one a line (Docker's /events), on a connection of
    its own: timeout_s to answer, then at most silence_s between two lines (else
    TimeoutError: a hung dockerd, or a cut proxy, is noticed). close() from any thread
    ends it; iterating ends when Docker ends the stream."""

    def __init__(
        self,
        base_url: str,
        api_version: str,
        path: str,
        *,
        timeout_s: float,
        silence_s: float,
        **params: str,
    ) -> None:
        self._conn = connection(base_url, timeout_s)
        self._sock: socket.socket | None = None
        self._response: http.client.HTTPResponse | None = None
        target = f"/v{api_version}{path}" + (f"?{urlencode(params)}" if params else "")
        try:
            self._conn.request("GET", target, headers={"Accept": "application/json"})
            # kept: an answer with `Connection: close` (the socket proxy's) takes the
            # socket from the connection, which then no longer has it
            self._sock = self._conn.sock
            self._response = response = self._conn.getresponse()
            if response.status >= 400:
                raise api_error(response, response.read(MAX_EVENT))
            assert self._sock is not None
            self._sock.settimeout(silence_s)
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> Iterator[Any]:
        assert self._response is not None  # made in __init__, or it raised
        while line := self._response.readline(MAX_EVENT + 1):
            if len(line) > MAX_EVENT:
                raise ValueError(f"an event over {MAX_EVENT // 1024} KiB")
            if line.strip():
                yield json.loads(line)

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)  # wakes a read blocked in another thread
            except OSError:
                pass
            self._sock.close()
        if self._response is not None:
            self._response.close()
        self._conn.close()
