"""The connection to Docker's API, made on first use from plain values (the address, a
timeout), in the newest API version dockerd speaks.

Not the Docker SDK: what it did here (GET /version, as its version="auto" does) is one
request, and importing it (requests, urllib3, …) was most of the agent's start-up CPU
under ARM1176 emulation.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from agent.docker.http import DockerHttp

API_VERSION = re.compile(r"1\.[0-9]{1,3}")  # what Docker's ApiVersion looks like: "1.41"


def docker_connect(base_url: str | None, timeout_s: float) -> Callable[[], DockerHttp] | None:
    """A function that opens Docker's API, or None when Docker is off (no URL)."""
    if base_url is None:
        return None

    def connect() -> DockerHttp:
        api = DockerHttp(base_url, None, timeout_s)
        try:
            api.use_version(api_version(api.get("/version")))
        except BaseException:
            api.close()
            raise
        return api

    return connect


def api_version(answer: object) -> str:
    """The API version in /version's answer, strictly (it sets every request's path)."""
    version = answer.get("ApiVersion") if isinstance(answer, dict) else None
    if not isinstance(version, str) or not API_VERSION.fullmatch(version):
        raise ValueError(f"Docker's /version gave no API version: {str(version)[:40]!r}")
    return version
