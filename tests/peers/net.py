"""Loopback helpers: free ports and waiting for a listener."""

from __future__ import annotations

import random
import socket
import time


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def free_port_between(low: int, high: int, kind: int = socket.SOCK_DGRAM) -> int:
    """A free port on 127.0.0.1 from low to high (for Swarm's data path port)."""
    for port in random.sample(range(low, high + 1), k=min(200, high - low + 1)):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port from {low} to {high}")


def wait_for_port(port: int, timeout_s: float, host: str = "127.0.0.1") -> bool:
    """True once something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def wait_until(predicate, timeout_s: float, interval_s: float = 0.1):  # type: ignore[no-untyped-def]
    """predicate()'s first truthy value, or None after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value or None
        time.sleep(interval_s)
