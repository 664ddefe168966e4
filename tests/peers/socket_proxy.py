"""The socket proxy (agent.proxy) for tests: on a loopback TCP port, or on a
unix socket (reachable from inside a node's network namespace too)."""

from __future__ import annotations

from agent.proxy.server import SocketProxy
from tests.peers.net import free_port


class TestProxy(SocketProxy):
    """What the proxy let through and what it refused, from its recent record."""

    __test__ = False  # not a pytest class

    @property
    def requests(self) -> list[str]:
        """The requests let through, in order: "GET /v1.41/info?…"."""
        return [r for r in self.recent if not r.startswith("refused: ")]

    @property
    def refused(self) -> list[str]:
        return [r.removeprefix("refused: ") for r in self.recent if r.startswith("refused: ")]

    def paths(self) -> list[str]:
        """The paths asked for, without the API version and the query."""
        return [r.split()[1].split("?")[0].split("/", 2)[-1] for r in self.requests]


class LoopbackProxy(TestProxy):
    def __init__(self, unix_path: str) -> None:
        super().__init__(f"127.0.0.1:{free_port()}", unix_path)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"tcp://{host}:{port}"


class UnixProxy(TestProxy):
    def __init__(self, path: str, unix_path: str) -> None:
        super().__init__(path, unix_path)
        self.path = path

    @property
    def url(self) -> str:
        return f"unix://{self.path}"
