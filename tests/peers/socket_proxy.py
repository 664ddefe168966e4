"""A read-only Docker socket proxy on a loopback TCP port, as a workshop would run one.

Forwards GET and HEAD to dockerd's unix socket and refuses anything else with 403,
like the usual docker-socket-proxy images. It records every request line, so a
test can see exactly what the agent asked Docker for.
"""

from __future__ import annotations

import socket
import threading

from tests.peers.net import free_port

FORBIDDEN = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class ReadOnlyProxy:
    def __init__(self, unix_path: str) -> None:
        self.unix_path = unix_path
        self.port = free_port()
        self.requests: list[str] = []  # "GET /v1.41/info", in order
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        """The paths asked for, without the API version and the query."""
        with self._lock:
            return [r.split()[1].split("?")[0].split("/", 2)[-1] for r in self.requests]

    def start(self) -> ReadOnlyProxy:
        self._thread.start()
        return self

    def close(self) -> None:
        self._listener.close()
        for s in list(self._open):
            try:
                s.close()
            except OSError:
                pass

    def __enter__(self) -> ReadOnlyProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.unix_path)
            self._open += [client, upstream]
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _requests(self, client: socket.socket, upstream: socket.socket) -> None:
        """Client to Docker: request heads only (GET has no body), checked one by one."""
        buf = b""
        try:
            while chunk := client.recv(65536):
                buf += chunk
                while b"\r\n\r\n" in buf:
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    line = head.split(b"\r\n", 1)[0].decode(errors="replace")
                    method = line.split(" ", 1)[0]
                    if method not in ("GET", "HEAD"):
                        with self._lock:
                            self.refused.append(line)
                        client.sendall(FORBIDDEN)
                        return
                    with self._lock:
                        self.requests.append(line.rsplit(" ", 1)[0])
                    upstream.sendall(head + b"\r\n\r\n")
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
