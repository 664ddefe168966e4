"""Node names that are safe in MQTT topics and Home Assistant ids."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
MAX_NAME_LENGTH = 64


def safe_name(name: str) -> str:
    """name with every run of characters outside [A-Za-z0-9_-] turned into '_'.

    No '+', '#' or '/' can reach a topic. An empty result becomes 'node'.
    """
    cleaned = _UNSAFE.sub("_", name.strip()).strip("_")[:MAX_NAME_LENGTH]
    return cleaned or "node"
