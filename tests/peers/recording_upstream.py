"""A stand-in for Docker's socket that records every byte it receives, to prove what a
proxy in front of it lets through. It answers each connection once: 200 with a short
body, or, for /events, a stream of chunks until the client goes away."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from tests.peers.listener import hang_up, serve_each

ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
    b"Connection: close\r\n\r\nOK"
)
STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    b"Connection: close\r\n\r\n"
)


class RecordingUpstream:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.received: list[bytes] = []  # everything each connection sent, in order
        self.open_streams = 0
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_UNIX)
        self._listener.bind(str(path))
        self._listener.listen(64)
        serve_each(self._listener, self._serve)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(2)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            time.sleep(0.05)  # whatever else arrives right behind the head is recorded too
            conn.setblocking(False)
            try:
                while chunk := conn.recv(65536):
                    data += chunk
            except BlockingIOError:
                pass
            conn.setblocking(True)
            with self._lock:
                self.received.append(data)
            if b"/events" in data.split(b"\r\n", 1)[0]:
                self._stream(conn)
            else:
                conn.sendall(ANSWER)
        except OSError:
            pass
        finally:
            conn.close()

    def _stream(self, conn: socket.socket) -> None:
        with self._lock:
            self.open_streams += 1
        try:
            conn.sendall(STREAM_HEAD)
            while True:  # until the proxy closes the connection
                conn.sendall(b"3\r\n{}\n\r\n")
                time.sleep(0.1)
        except OSError:
            pass
        finally:
            with self._lock:
                self.open_streams -= 1

    def close(self) -> None:
        hang_up(self._listener)
