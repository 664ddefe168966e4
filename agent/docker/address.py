"""What a Docker address may be: the agent's --docker-host and DOCKER_HOST (pure)."""

from __future__ import annotations

from urllib.parse import urlsplit


def check_docker_host(url: str) -> str:
    """url if it is unix://PATH or tcp://HOST:PORT (http:// too); else ValueError."""
    parts = urlsplit(url)
    if parts.scheme == "unix" and (parts.netloc + parts.path):
        return url
    if parts.scheme in ("tcp", "http") and parts.hostname and parts.port:
        return url
    raise ValueError(
        "must be unix:///path/to/docker.sock, tcp://host:port (no TLS: use a socket proxy), or none"
    )
