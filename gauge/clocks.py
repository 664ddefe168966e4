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

SPAN_S = 60.0  # the live messages of the last minute: longer than a half-dead link lasts
MAX_KEPT = 64  # bounds a node's memory; only a clock drifting steadily slower fills it


class NodeClock:
    """The smallest (arrival - sample time) of a node's live messages over the last
    SPAN_S of arrivals, as a sliding minimum: a message that can never be the minimum
    again (an older one at least as large) is dropped at once, so an idle node keeps
    one or two.

    By arrival time, not by count: a burst of any size delivered late by a half-dead
    link (broker → gauge too) cannot push the messages from before the cut out. A
    half-dead link lasts at most 1.5 × the keepalive (45 s by default) before the
    broker drops it. A node whose clock steps back (NTP correcting a clock that ran
    ahead) looks `step` seconds late for up to SPAN_S: its states may count as stale
    that long. One whose clock steps forward is followed at once.
    """

    def __init__(self) -> None:
        self._kept: deque[tuple[float, float]] = deque()  # (arrival, raw), raw increasing

    def add(self, arrival: float, sampled_at: float) -> None:
        """A live message: arrival on the gauge's monotonic clock, sampled_at in the
        node's seconds since the epoch."""
        raw = arrival - sampled_at
        kept = self._kept
        while kept and kept[-1][1] >= raw:
            kept.pop()
        kept.append((arrival, raw))
        while len(kept) > MAX_KEPT or arrival - kept[0][0] > SPAN_S:
            kept.popleft()

    @property
    def offset(self) -> float | None:
        """The gauge's monotonic clock less the node's wall clock; None before any live
        message."""
        return self._kept[0][1] if self._kept else None

    def local(self, sampled_at: float) -> float | None:
        """The sample time on the gauge's monotonic clock, or None where unknown."""
        offset = self.offset
        return None if offset is None else sampled_at + offset

    def node_ahead_s(self, wall_minus_monotonic: float) -> float | None:
        """How far the node's clock is ahead of the gauge's wall clock (negative:
        behind), network delay included; None before any live message."""
        offset = self.offset
        return None if offset is None else -(offset + wall_minus_monotonic)
