"""A read-only Docker socket proxy: GET and HEAD pass, everything else gets 403.

    python3 -m agent.socket_proxy LISTEN [UPSTREAM]

LISTEN is a unix socket path (/run/swarmgauge/docker.sock) or HOST:PORT; UPSTREAM
is Docker's socket (default /var/run/docker.sock). The Swarm stack runs it on every
node beside the agent, sharing a host folder, so a compromised agent container can
read but never start, stop or change anything (see workshop/stack.socket-proxy.yml).
Requests are checked one by one on a kept-alive connection; a GET has no body.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from pathlib import Path

FORBIDDEN = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
ALLOWED = ("GET", "HEAD")


class ReadOnlyProxy:
    def __init__(self, listen: str, upstream: str = "/var/run/docker.sock") -> None:
        self.upstream = upstream
        self.requests: list[str] = []  # "GET /v1.41/info", in order
        self.refused: list[str] = []
        self._lock = threading.Lock()
        if listen.startswith("/"):
            Path(listen).unlink(missing_ok=True)
            self._listener = socket.socket(socket.AF_UNIX)
            self._listener.bind(listen)
            os.chmod(listen, 0o660)
            self._listener.listen(64)
        else:
            host, _, port = listen.rpartition(":")
            self._listener = socket.create_server((host or "127.0.0.1", int(port)))
        self.address = self._listener.getsockname()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> ReadOnlyProxy:
        self._thread.start()
        return self

    def close(self) -> None:
        self._listener.close()

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
            try:
                upstream = socket.socket(socket.AF_UNIX)
                upstream.connect(self.upstream)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()

    def _requests(self, client: socket.socket, upstream: socket.socket) -> None:
        buf = b""
        try:
            while chunk := client.recv(65536):
                buf += chunk
                while b"\r\n\r\n" in buf:
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    line = head.split(b"\r\n", 1)[0].decode(errors="replace")
                    if line.split(" ", 1)[0] not in ALLOWED:
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


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not 1 <= len(args) <= 2 or args[0].startswith("-"):
        print("usage: python3 -m agent.socket_proxy LISTEN [UPSTREAM]", file=sys.stderr)
        return 2
    try:
        proxy = ReadOnlyProxy(*args).start()
    except (OSError, ValueError) as exc:
        print(f"socket_proxy: cannot listen on {args[0]}: {exc}", file=sys.stderr)
        return 2
    print(f"socket_proxy: GET-only proxy on {args[0]} for {proxy.upstream}", file=sys.stderr)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    proxy.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
