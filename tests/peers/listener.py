"""A test peer's listening socket: each connection served in a thread of its own."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable


def serve_each(listener: socket.socket, serve: Callable[[socket.socket], None]) -> None:
    """Accept on listener in a thread until it is hung up (hang_up), each
    connection handed to serve in a thread of its own."""

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()


def hang_up(sock: socket.socket) -> None:
    """Shut down and close. close() alone does not wake a thread blocked in accept() or
    recv() on Linux: a listener would go on holding its port (or path), and take a later
    test's connection there."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
