"""A test peer's listening socket: each connection served in a thread of its own."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable


def serve_each(listener: socket.socket, serve: Callable[[socket.socket], None]) -> None:
    """Accept on listener in a thread until it is closed (close_listener), each
    connection handed to serve in a thread of its own."""

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()


def close_listener(listener: socket.socket) -> None:
    """Stop listening. close() alone does not wake a thread blocked in accept() on Linux:
    it would go on holding the port (or path), and take a later test's connection."""
    try:
        listener.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    listener.close()
