"""Identify: "which one is pi-7?" A message on <prefix>/node/<node>/identify makes that
node's LEDs flash white for a few seconds. Its payload is the seconds, as ASCII digits
(1 to 60; empty: the default). Pure: the agent and `swarmgauge-identify` share it."""

from __future__ import annotations

from agent.shared.wire.payloads import Rejected

DEFAULT_S = 10
MAX_S = 60


def identify_topic(prefix: str, node: str) -> str:
    """Where a node hears it is asked to show itself (node: a safe node name)."""
    return f"{prefix}/node/{node}/identify"


def parse_identify(payload: bytes) -> int:
    """The seconds asked for, or Rejected (with why, in one line)."""
    text = payload.strip()
    if not text:
        return DEFAULT_S
    if len(text) > 2 or not text.isdigit() or not 1 <= int(text) <= MAX_S:
        raise Rejected(f"identify wants seconds from 1 to {MAX_S}, not {text[:16]!r}")
    return int(text)
