"""Turn whatever reading Docker raised into one line a participant can act on."""

from __future__ import annotations

from collections.abc import Iterator

from agent.docker.http import DockerApiError
from agent.shared.errors import SwarmgaugeError


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """exc and every exception it wraps (cause, context, args, a reason attribute)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        for nested in (e.__cause__, e.__context__, getattr(e, "reason", None), *e.args):
            if isinstance(nested, BaseException):
                todo.append(nested)


def _socket_path(base_url: str) -> str:
    return base_url.removeprefix("unix://")


def dockerd_answers(exc: BaseException) -> bool:
    """Whether dockerd is there despite exc: it answered with an error, or was slow."""
    return any(isinstance(e, (DockerApiError, TimeoutError)) for e in _causes(exc))


def describe_docker_error(exc: BaseException, base_url: str, timeout_s: float) -> str:
    """One line saying why Docker at base_url could not be read."""
    where = _socket_path(base_url)
    for e in _causes(exc):
        if isinstance(e, FileNotFoundError):
            return f"Docker socket {where} not found (is Docker installed and the socket mounted?)"
        if isinstance(e, PermissionError):
            return (
                f"permission denied on Docker socket {where}"
                " (run as root, join the docker group, or mount the socket)"
            )
        if isinstance(e, ConnectionRefusedError):
            return f"Docker refused the connection at {where} (is dockerd running?)"
        if isinstance(e, TimeoutError) or "timed out" in str(e).lower():
            return f"Docker at {where} did not answer within {timeout_s:g} s"
        if "502" in str(e) and "bad gateway" in str(e).lower():
            # the socket proxy (agent.proxy) answers for a dockerd that does not
            return f"the socket proxy at {where} cannot reach Docker (is dockerd running?)"
    if isinstance(exc, SwarmgaugeError):  # DockerApiError: already one line
        return str(exc).splitlines()[0]
    return f"Docker at {where} unreachable: {exc}".splitlines()[0]
