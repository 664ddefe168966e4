"""The gauge's own state message (<prefix>/gauge/state): the cluster in a few numbers,
sent when they change and at most once per min_interval_s (a busy cluster changes
its mean strain with every node's sample; Home Assistant needs no more than that)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from agent.shared.wire.payloads import iso_utc
from gauge.summary import cluster_summary

MIN_INTERVAL_S = 1.0
# After the first thing known, the rest of the broker's retained states are on the way:
# a partial picture (a few nodes, no totals yet) is not announced.
SETTLE_S = 2.0


def same(summary: dict[str, Any], sent: dict[str, Any] | None) -> bool:
    """The same numbers. Why the totals are unknown is not compared: its words carry
    an age ("… 40 s old") that would make every second a change."""
    if sent is None:
        return False
    return {**summary, "totals_unknown": None} == {**sent, "totals_unknown": None}


class Announcer:
    """offer() every refresh of the cluster view; send gets the message when it is due."""

    def __init__(
        self,
        send: Callable[[dict[str, Any]], None],
        alarm_at: float,
        min_interval_s: float = MIN_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.send = send
        self.alarm_at = alarm_at
        self.min_interval_s = min_interval_s
        self.clock, self.wall = clock, wall
        self.sent: dict[str, Any] | None = None
        self.sent_at = float("-inf")
        self.due = False  # a change waits for the interval to pass
        self.known_at: float | None = None  # when something was first known

    def offer(self, snapshot: dict[str, Any], changed: bool = True) -> None:
        """changed=False: the snapshot is the one offered last (only a change held
        back by the interval can be due)."""
        if not changed and not self.due:
            return
        now = self.clock()
        summary = cluster_summary(snapshot, self.alarm_at)
        if summary["nodes"]["total"] == 0 and summary["desired"] is None:
            # nothing known yet (a gauge just started, its retained states on the way):
            # "0 nodes online" would be a lie; Home Assistant keeps unknown instead
            self.due = False
            return
        if self.known_at is None:
            self.known_at = now
        if same(summary, self.sent):
            self.due = False
            return
        if now - self.sent_at < self.min_interval_s or now - self.known_at < SETTLE_S:
            self.due = True
            return
        stamp = iso_utc(datetime.fromtimestamp(self.wall(), UTC))
        self.send({"schema": 1, "time": stamp, **summary})
        self.sent, self.sent_at, self.due = summary, now, False
