"""The Docker SDK's client, made on first use from plain values (the address, a timeout)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def docker_connect(base_url: str | None, timeout_s: float) -> Callable[[], Any] | None:
    """A function that makes a Docker API client, or None when Docker is off (no URL)."""
    if base_url is None:
        return None

    def connect() -> Any:
        import docker  # the SDK imports requests: keep it off the --help path

        client = docker.APIClient(base_url=base_url, version="auto", timeout=timeout_s)
        # Used to negotiate the API version and to follow the event stream (the samples
        # go through agent.docker.http). It is a requests.Session: without this it would
        # look for proxies in the environment on every request; Docker needs none.
        client.trust_env = False
        return client

    return connect
