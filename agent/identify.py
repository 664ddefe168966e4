"""Identify, on the agent: "which one is pi-7?" asked over MQTT, answered by the LEDs
flashing white for the seconds asked (agent.shared.wire.identify says the message)."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from agent.frames import FLASH_S
from agent.shared.logs import SayOnce
from agent.shared.wire.identify import parse_identify
from agent.shared.wire.payloads import Rejected

log = logging.getLogger("agent.identify")


class Identify:
    """The flash asked for (any thread): whether it runs, whether it is lit now, and when
    that next changes. `changed` is called (on paho's thread) when one is asked for."""

    def __init__(self, changed: Callable[[], None], clock: Callable[[], float] = time.monotonic):
        self._changed = changed
        self._clock = clock
        self._lock = threading.Lock()
        self._since = self._until = 0.0
        self._refused = SayOnce(log, "identify refused: %s")

    def on_message(self, msg: Any) -> None:
        try:
            self.ask(bytes(msg.payload), bool(msg.retain))
        except Exception as exc:  # a bug: one message lost, never paho's thread
            log.error("identify: unexpected %s: %s", type(exc).__name__, exc)

    def ask(self, payload: bytes, retained: bool = False) -> None:
        """A request: it starts a flash, or makes the one running last at least as
        long as asked (its rhythm kept: requests in a row never hold it lit, nor each
        cost a line and a sample)."""
        if retained:  # kept by the broker from whenever: not a request now
            self._refused("a retained message (publish it without retain)")
            return
        try:
            seconds = parse_identify(payload)
        except Rejected:
            self._refused("not seconds from 1 to 60")  # one line, whatever the payload
            return
        self._refused(None)
        with self._lock:
            now = self._clock()
            if now < self._until:
                self._until = max(self._until, now + seconds)
                return
            self._since, self._until = now, now + seconds
        log.info("identify: flashing white for %d s", seconds)
        self._changed()

    def active(self, now: float) -> bool:
        return now < self._until

    def lit(self, now: float) -> bool:
        """Lit for the first half of each FLASH_S × 2, from when it was asked."""
        return self.active(now) and int((now - self._since) / FLASH_S) % 2 == 0

    def next_change(self, now: float) -> float:
        """When the flash next turns (or ends); infinity while there is none."""
        if not self.active(now):
            return math.inf
        halves = math.floor((now - self._since) / FLASH_S) + 1
        return min(self._until, self._since + halves * FLASH_S)
