"""--led-mode cluster and split: the gauge's state, followed over MQTT.

The agent subscribes to the gauge's state and availability only (the broker's ACL
lets a node read them, nothing more). Each message is parsed strictly on paho's
thread; only a change of what the LEDs show asks the sampler thread to draw again:
no work between messages, no LED write when nothing changed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from agent.frames import UNKNOWN_CLUSTER, ClusterLeds
from agent.shared.logs import SayOnce
from agent.shared.wire.payloads import GaugeState, Rejected, parse_gauge_state
from agent.shared.wire.topics import ONLINE, gauge_topics

log = logging.getLogger("agent.gauge")


def cluster_leds(state: GaugeState | None, online: bool) -> ClusterLeds:
    """What the LEDs show of the gauge's state: unknown without a gauge online or with
    its totals unknown (never a 0 bar), its alarm whatever else it knows."""
    if not online or state is None:
        return UNKNOWN_CLUSTER
    strain = None if state.totals_unknown is not None else state.strain
    return ClusterLeds(strain, state.alarm)


class GaugeFollower:
    """The gauge's state as the LEDs show it (`leds`, any thread); `changed` is called
    (on paho's thread: it must be quick) whenever that changes."""

    def __init__(self, prefix: str, changed: Callable[[], None]) -> None:
        topics = gauge_topics(prefix)
        self._state_topic, self._availability_topic = topics.state, topics.availability
        self.filters = (topics.state, topics.availability)
        self._changed = changed
        self._lock = threading.Lock()
        self._state: GaugeState | None = None
        self._online = False  # until the gauge says so (retained: at once if it is up)
        self._leds = UNKNOWN_CLUSTER
        self._refused = SayOnce(log, "the gauge's state refused (%s): the cluster is unknown")

    @property
    def leds(self) -> ClusterLeds:
        return self._leds

    def on_message(self, msg: Any) -> None:
        try:
            self.take(msg.topic, bytes(msg.payload), bool(msg.retain))
        except Exception as exc:  # a bug: one message lost, never paho's thread
            log.error("the gauge's %s: unexpected %s: %s", msg.topic, type(exc).__name__, exc)

    def take(self, topic: str, payload: bytes, retained: bool = True) -> None:
        """retained: sent as the broker kept it (at subscribe), not as it happened."""
        with self._lock:
            if topic == self._availability_topic:
                online = payload == ONLINE.encode()
                if online and not retained:
                    # a gauge (re)started now: the state kept is its last run's, until
                    # it says anew (it sends its first after a few seconds)
                    self._state = None
                self._online = online
            elif topic == self._state_topic:
                self._state = self._parse(payload)
            else:
                return
            self._show(cluster_leds(self._state, self._online))

    def lost(self) -> None:
        """The broker is gone: nothing is known of the gauge until it is back (then the
        retained state and availability come again)."""
        with self._lock:
            self._state, self._online = None, False
            self._show(UNKNOWN_CLUSTER)

    def _show(self, leds: ClusterLeds) -> None:
        if leds != self._leds:
            self._leds = leds
            self._changed()

    def _parse(self, payload: bytes) -> GaugeState | None:
        """The state, or None (unknown) for an empty (cleared) or refused one."""
        if not payload:
            return None
        try:
            state = parse_gauge_state(payload)
        except Rejected as why:
            self._refused(str(why))
            return None
        self._refused(None)
        return state
