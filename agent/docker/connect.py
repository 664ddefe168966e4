"""The connection to Docker's API, made on first use from plain values (the address, a
timeout), in the newest API version dockerd speaks.

Not the Docker SDK: what it did here (GET /version, as its version="auto" does) is one
request, and importing it (requests, urllib3, …) was most of the agent's start-up CPU
under ARM1176 emulation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from agent.docker.http import DockerHttp
from agent.shared.errors import SwarmgaugeError

API_VERSION = re.compile(r"1\.([0-9]{1,3})")  # what Docker's ApiVersion looks like: "1.41"
OLDEST = 24  # API 1.24 (Docker 1.12) is the first with /nodes, /services and /tasks


class NotDocker(SwarmgaugeError, ValueError):
    """Something answered /version, but not as Docker does, or too old a Docker."""


def docker_connect(base_url: str | None, timeout_s: float) -> Callable[[], DockerHttp] | None:
    """A function that opens Docker's API, or None when Docker is off (no URL)."""
    if base_url is None:
        return None

    def connect() -> DockerHttp:
        api = DockerHttp(base_url, None, timeout_s)
        try:
            try:
                answer = api.get("/version")
            except (json.JSONDecodeError, UnicodeDecodeError):  # an HTML page, another service
                raise NotDocker(f"{base_url} answered /version, but not as Docker does") from None
            api.use_version(api_version(answer, base_url))
        except BaseException:
            api.close()
            raise
        return api

    return connect


def api_version(answer: object, base_url: str) -> str:
    """The API version in /version's answer, strictly (it is in every request's path)."""
    version = answer.get("ApiVersion") if isinstance(answer, dict) else None
    match = API_VERSION.fullmatch(version) if isinstance(version, str) else None
    if match is None:
        raise NotDocker(f"{base_url} answered /version, but not as Docker does")
    if int(match.group(1)) < OLDEST:
        raise NotDocker(f"Docker's API {version} is older than the 1.{OLDEST} Swarm needs")
    return match.group(0)
