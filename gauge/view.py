"""The cluster as the gauge sees it: the newest state of every node, kept from MQTT.

Pure apart from the clock, which is passed in. Bad input on any topic (not JSON,
wrong types, schema ≠ 1, over 64 KiB, unexpected topics) is rejected with a short
reason and never changes another node's state.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.strain import cluster_strain

MAX_PAYLOAD = 64 * 1024
NODE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Rejected(ValueError):
    """A message that is dropped; str() says why in a few words."""


@dataclass
class NodeEntry:
    strain: float = 0.0
    tasks_running: int = 0
    leds: list[list[float]] | None = None
    received_s: float | None = None  # clock time of the newest valid state
    offline: bool = False  # availability said "offline"


def _number(value: Any, low: float, high: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise Rejected(f"{what} is not a number from {low:g} to {high:g}")
    return float(value)


def _load_json(payload: bytes) -> Any:
    if len(payload) > MAX_PAYLOAD:
        raise Rejected("payload over 64 KiB")
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise Rejected("not JSON") from None


def parse_node_state(payload: bytes, node: str) -> NodeEntry:
    """The parts of a node state (schema 1) the gauge uses; Rejected if it is not one."""
    state = _load_json(payload)
    if not isinstance(state, dict):
        raise Rejected("not a JSON object")
    if state.get("schema") != 1:
        raise Rejected(f"schema {state.get('schema')!r}, not 1")
    if state.get("node") != node:
        raise Rejected("node name differs from the topic's")
    strain, tasks = state.get("strain"), state.get("tasks")
    if not isinstance(strain, dict) or not isinstance(tasks, dict):
        raise Rejected("strain or tasks missing")
    running = tasks.get("running")
    if isinstance(running, bool) or not isinstance(running, int) or running < 0:
        raise Rejected("tasks.running is not a count")
    leds = state.get("leds")
    if leds is not None:
        if not isinstance(leds, list) or len(leds) != 8:
            raise Rejected("leds is not 8 pixels")
        for pixel in leds:
            if not isinstance(pixel, list) or len(pixel) != 4:
                raise Rejected("a pixel is not [r, g, b, brightness]")
            for channel in pixel[:3]:
                _number(channel, 0, 255, "a colour")
            _number(pixel[3], 0, 1, "a brightness")
    return NodeEntry(
        strain=_number(strain.get("value"), 0, 1, "strain.value"),
        tasks_running=running,
        leds=leds,
    )


def parse_cluster_totals(payload: bytes) -> tuple[int, int]:
    """(desired, running) from the leader's cluster state."""
    state = _load_json(payload)
    totals = state.get("totals") if isinstance(state, dict) else None
    if not isinstance(state, dict) or state.get("schema") != 1 or not isinstance(totals, dict):
        raise Rejected("not a cluster state of schema 1")
    desired, running = totals.get("desired"), totals.get("running")
    for v in (desired, running):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise Rejected("totals are not counts")
    return desired, running  # type: ignore[return-value]


class ClusterView:
    """Every node's newest state, and the leader's task totals."""

    def __init__(
        self, prefix: str, stale_after_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.prefix = prefix
        self.stale_after_s = stale_after_s
        self.clock = clock
        self.nodes: dict[str, NodeEntry] = {}
        self.totals: tuple[int, int] = (0, 0)
        self.totals_received_s: float | None = None

    def apply(self, topic: str, payload: bytes) -> None:
        """Take one message in; Rejected (and nothing changed) if it is not for us."""
        parts = topic.split("/")
        head = self.prefix.split("/")
        rest = parts[len(head) :] if parts[: len(head)] == head else []
        if rest == ["cluster", "state"]:
            self.totals = parse_cluster_totals(payload)
            self.totals_received_s = self.clock()
            return
        if len(rest) != 3 or rest[0] != "node" or not NODE_NAME.match(rest[1]):
            raise Rejected("unexpected topic")
        node, kind = rest[1], rest[2]
        if kind == "state":
            entry = parse_node_state(payload, node)
            old = self.nodes.get(node)
            entry.offline = old.offline if old else False
            entry.received_s = self.clock()
            self.nodes[node] = entry
        elif kind == "availability":
            if payload not in (b"online", b"offline"):
                raise Rejected("availability is neither online nor offline")
            entry = self.nodes.setdefault(node, NodeEntry())
            entry.offline = payload == b"offline"
        else:
            raise Rejected("unexpected topic")

    def snapshot(self) -> dict[str, Any]:
        """The aggregate, as /api/cluster serves it (a contract; see the README)."""
        now = self.clock()
        nodes: list[dict[str, Any]] = []
        for name in sorted(self.nodes):
            entry = self.nodes[name]
            if entry.received_s is None:
                continue  # availability alone: nothing to show yet
            stale = now - entry.received_s > self.stale_after_s
            nodes.append(
                {
                    "name": name,
                    "online": not entry.offline,
                    "stale": stale,
                    "strain": entry.strain,
                    "tasks_running": entry.tasks_running,
                    "leds": entry.leds,
                }
            )
        counted = [n["strain"] for n in nodes if n["online"] and not n["stale"]]
        fresh = (
            self.totals_received_s is not None
            and now - self.totals_received_s <= self.stale_after_s
        )
        desired, running = self.totals if fresh else (0, 0)
        return {
            "strain": round(cluster_strain(counted, desired, running), 3),
            "desired": desired,
            "running": running,
            "nodes": nodes,
        }
