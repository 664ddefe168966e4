"""Node names that are safe in MQTT topics and Home Assistant ids."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
MAX_NAME_LENGTH = 64
# a node name as it appears in topics and payloads (the JSON Schemas say the same)
NODE_NAME_PATTERN = "^[A-Za-z0-9_-]{1,64}$"
_NODE_NAME = re.compile(NODE_NAME_PATTERN)


def is_node_name(text: str) -> bool:
    """Whether text is a node name as safe_name makes them."""
    return _NODE_NAME.fullmatch(text) is not None


def safe_name(name: str) -> str:
    """name with every run of characters outside [A-Za-z0-9_-] turned into '_'.

    No '+', '#' or '/' can reach a topic. An empty result becomes 'node'.
    """
    cleaned = _UNSAFE.sub("_", name.strip()).strip("_")[:MAX_NAME_LENGTH]
    return cleaned or "node"
