"""How far a node's clock is from the gauge's, measured from its live messages.

A Pi Zero W has no real-time clock: without NTP it may be minutes or hours off. So
the sample time in a payload is never compared with the gauge's clock as it is. For
each live message the gauge notes `arrival - sample time` (arrival on its monotonic
clock); the smallest of a node's recent ones is its clock's offset plus the least
network delay, as NTP's clock filter takes it. A message held back by a half-dead
link (a QoS 1 backlog delivered, late, as live messages) shows a larger one than
that, so it is aged by when it was sampled, not by when it came.

Pure: the times are passed in.
"""

from __future__ import annotations

from collections import deque

WINDOW = 8  # live messages: 8 intervals of history (40 s at the default interval)


class NodeClock:
    """The recent live messages of one node, as (arrival - sample time) in seconds.

    A node whose clock steps back (NTP correcting a clock that ran ahead) looks
    `step` seconds late until WINDOW more live messages have come: its states may
    count as stale that long. One whose clock steps forward is followed at once.
    """

    def __init__(self) -> None:
        self._raw: deque[float] = deque(maxlen=WINDOW)

    def add(self, arrival: float, sampled_at: float) -> None:
        """A live message: arrival on the gauge's monotonic clock, sampled_at in the
        node's seconds since the epoch."""
        self._raw.append(arrival - sampled_at)

    @property
    def offset(self) -> float | None:
        """The gauge's monotonic clock less the node's wall clock; None before any live
        message."""
        return min(self._raw) if self._raw else None

    def local(self, sampled_at: float) -> float | None:
        """The sample time on the gauge's monotonic clock, or None where unknown."""
        offset = self.offset
        return None if offset is None else sampled_at + offset

    def node_ahead_s(self, wall_minus_monotonic: float) -> float | None:
        """How far the node's clock is ahead of the gauge's wall clock (negative:
        behind), network delay included; None before any live message."""
        offset = self.offset
        return None if offset is None else -(offset + wall_minus_monotonic)
