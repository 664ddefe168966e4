"""A Docker API client and the Swarm sampler, made from the agent's settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.docker.swarm import ClusterMode, SwarmSampler, leadership_deadline
from agent.settings.config import AgentConfig


def docker_connect(config: AgentConfig) -> Callable[[], Any] | None:
    """A function that makes a Docker API client, or None when Docker is off."""
    if config.docker_host is None:
        return None
    base_url, timeout_s = config.docker_host, config.docker_timeout_s

    def connect() -> Any:
        import docker  # the SDK imports requests: keep it off the --help path

        client = docker.APIClient(base_url=base_url, version="auto", timeout=timeout_s)
        # Used to negotiate the API version and to follow the event stream (the samples
        # go through agent.docker.http). It is a requests.Session: without this it would
        # look for proxies in the environment on every request; Docker needs none.
        client.trust_env = False
        return client

    return connect


def make_swarm_sampler(config: AgentConfig, cluster: ClusterMode) -> SwarmSampler:
    return SwarmSampler(
        docker_connect(config),
        base_url=config.docker_host or "",
        timeout_s=config.docker_timeout_s,
        cluster=cluster,
        probe_timeout_s=leadership_deadline(config.interval_s, config.docker_timeout_s),
        stack=config.stack,
    )
