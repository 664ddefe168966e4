"""The MQTT edge of the agent and the gauge: retained state and availability, Home
Assistant discovery, and (for the gauge) the topics it follows.

paho-mqtt 2.x, callback API v2. The last will is set before connecting;
connect_async + loop_start mean a missing broker never stops the program; paho
retries with exponential back-off. On every (re)connect: availability, discovery,
then the newest state. While disconnected only the newest state is kept, and
whatever paho still held from before is dropped, so no stale backlog is delivered.

No backlog on a half-dead link either (a cut shorter than 1.5 × keepalive never
drops the connection, and everything written meanwhile would arrive, late, as live
messages): at most one state per topic is in flight. Until the broker acknowledges
it, newer states only replace each other here, and the newest goes out on the ack.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from agent.shared.logs import SayOnce
from agent.shared.mqtt.client import (
    NODE_HINT,
    describe_connect_error,
    describe_refusal,
    new_client,
)
from agent.shared.settings.broker_url import BrokerUrl, TlsFiles
from agent.shared.wire.topics import OFFLINE, ONLINE, Topics


@dataclass(frozen=True)
class Follow:
    """Topic filters to subscribe to on every connect, and who gets their messages
    (on paho's thread: thin, never raising); lost: told when the connection is lost
    (what it followed is unknown until the next connect sends the retained again)."""

    filters: tuple[str, ...]
    on_message: Callable[[mqtt.MQTTMessage], None]
    lost: Callable[[], None] | None = None


class Publisher:
    """Publishes one node's (or the gauge's) messages. Thread-safe; start() once,
    close() at the end. hint: what else to check when the broker refuses the login;
    log: the program's MQTT logger (agent.mqtt, gauge.mqtt)."""

    def __init__(
        self,
        broker: BrokerUrl,
        topics: Topics,
        *,
        client_id: str,
        keepalive_s: int = 30,
        tls: TlsFiles | None = None,
        reconnect_max_s: int = 30,
        discovery_prefix: str | None = "homeassistant",
        follow: Follow | None = None,
        hint: str | None = NODE_HINT,
        log: logging.Logger,
    ) -> None:
        self._broker = broker
        self._topics = topics
        self._follow = follow
        self._hint = hint
        self._keepalive_s = keepalive_s
        self._discovery_prefix = discovery_prefix
        self._lock = threading.Lock()
        self._connected = False
        self._closed = False
        self._state: str | None = None  # newest node state, JSON
        self._cluster: str | None = None  # newest cluster state, JSON (leader only)
        self._discovery: list[tuple[str, str]] = []
        self._in_flight: dict[str, int] = {}  # topic → mid of its state not yet acknowledged
        self._acked: deque[int] = deque()  # acks that came while the lock was held
        self._sent: dict[str, str] = {}  # topic → the state last handed to paho for it
        self._log = log
        self._say = SayOnce(log, "MQTT: %s; retrying")  # called with the lock held
        self._offline_said_at = -60.0
        self._own_topics = {topics.availability}
        if discovery_prefix:
            self._own_topics.add(f"{discovery_prefix}/status")

        c = new_client(broker, client_id, tls, reconnect_max_s)
        c.will_set(topics.availability, OFFLINE, qos=1, retain=True)
        c.on_connect = self._on_connect
        c.on_connect_fail = self._on_connect_fail
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_publish = self._on_publish
        self._client = c

    # --- what the agent calls ---------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the broker has accepted this client now (a plain read: no lock)."""
        return self._connected

    def start(self) -> None:
        self._log.info("MQTT: connecting to %s as %s", self._broker, self._topics.node)
        self._client.connect_async(self._broker.host, self._broker.port, self._keepalive_s)
        self._client.loop_start()

    def publish_state(
        self, node_state: dict[str, Any], cluster_state: dict[str, Any] | None
    ) -> None:
        """Hand over the newest state; sent now if connected, else on the next connect."""
        with self._locked():
            if self._closed:
                return
            self._state = json.dumps(node_state, separators=(",", ":"))
            # None: this node does not lead (now), so it must not resend an old cluster state
            self._cluster = (
                None if cluster_state is None else json.dumps(cluster_state, separators=(",", ":"))
            )
            if self._connected:
                self._send_state()

    def set_discovery(self, messages: list[tuple[str, str]]) -> None:
        """Home Assistant discovery configs, announced on every connect."""
        with self._locked():
            changed = messages != self._discovery
            self._discovery = messages
            if changed and self._connected:
                self._send_discovery()

    def close(self, timeout_s: float = 1.0) -> None:
        """Publish offline, disconnect, stop paho's thread. Idempotent."""
        with self._locked():
            if self._closed:
                return
            self._closed = True
            info = None
            if self._connected:
                info = self._client.publish(self._topics.availability, OFFLINE, qos=1, retain=True)
        if info is not None:
            try:
                info.wait_for_publish(timeout_s)
            except (RuntimeError, ValueError):
                pass  # lost the connection meanwhile: the will says offline instead
        self._client.disconnect()
        self._client.loop_stop()

    # --- the lock ------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The lock; on leaving it, the acknowledgements that came meanwhile are taken
        (_on_publish never waits for the lock), so the newest state never waits for a
        next one: the gauge's may not come for hours."""
        with self._lock:
            yield
        while self._acked and self._lock.acquire(blocking=False):  # held: its holder takes them
            try:
                acked = False
                while self._acked:
                    acked |= self._ack(self._acked.popleft())
                if acked and self._connected and not self._closed:
                    self._send_state()
            finally:
                self._lock.release()

    # --- sending (called with the lock held) --------------------------------------------

    def _publish(self, topic: str, payload: str) -> None:
        self._client.publish(topic, payload, qos=1, retain=True)

    def _send_state(self) -> None:
        if self._state is not None:
            self._send_newest(self._topics.state, self._state)
        if self._cluster is not None and self._topics.cluster is not None:
            self._send_newest(self._topics.cluster, self._cluster)

    def _send_newest(self, topic: str, payload: str) -> None:
        """Publish, unless a state on this topic still waits for its acknowledgement:
        then this one waits (replaced by any newer one) and goes out on the ack (taken
        by _on_publish, or by whoever held the lock when it came: see _locked)."""
        if topic in self._in_flight or self._sent.get(topic) == payload:
            return
        info = self._client.publish(topic, payload, qos=1, retain=True)
        if info.rc == mqtt.MQTT_ERR_SUCCESS:
            self._in_flight[topic] = info.mid
            self._sent[topic] = payload

    def _ack(self, mid: int) -> bool:
        """Whether mid was a state in flight (it is not now)."""
        for topic, waiting in self._in_flight.items():
            if waiting == mid:
                del self._in_flight[topic]
                return True
        return False

    def _send_discovery(self) -> None:
        for topic, payload in self._discovery:
            self._publish(topic, payload)

    def _note_offline(self) -> None:
        """Once a minute at most: a late will is normal once, not over and over."""
        now = time.monotonic()
        if now - self._offline_said_at >= 60.0:
            self._offline_said_at = now
            self._log.info(
                "MQTT: answered 'offline' on %s with 'online' (a late will; if this repeats,"
                " another program publishes as %s)",
                self._topics.availability,
                self._topics.node,
            )

    # --- paho's callbacks, on paho's thread: thin, and never raise ------------------------

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            with self._locked():
                self._say(describe_refusal(reason, self._broker, self._hint))
            return
        with self._locked():
            client.drop_out_messages()  # whatever was in flight is stale now
            self._in_flight.clear()
            self._acked.clear()
            self._sent.clear()
            self._connected = True
            self._say(None)
            self._log.info("MQTT: connected to %s", self._broker)
            self._publish(self._topics.availability, ONLINE)
            self._send_discovery()
            self._send_state()
            client.subscribe(self._topics.availability, qos=1)
            if self._discovery_prefix:
                client.subscribe(f"{self._discovery_prefix}/status", qos=1)
            if self._follow is not None:
                # QoS 0: only the newest state matters and the next one is an interval
                # away, so the follower spares itself an acknowledgement per message
                client.subscribe([(f, 0) for f in self._follow.filters])

    def _on_publish(
        self, _client: mqtt.Client, _userdata: Any, mid: int, _reason: Any, _props: Any
    ) -> None:
        # paho calls this holding its own lock, which publish() takes: whoever holds ours
        # may be waiting for it, so never wait for ours here (that would deadlock)
        if not self._lock.acquire(blocking=False):
            self._acked.append(mid)  # the holder, or the next state, takes it
            return
        try:
            if self._ack(mid) and self._connected and not self._closed:
                self._send_state()  # whatever became newest while that one was in flight
        finally:
            self._lock.release()

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        # paho calls this inside its `except OSError`: the exception says why
        with self._locked():
            self._say(describe_connect_error(sys.exc_info()[1], self._broker))

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        with self._locked():
            was_connected, self._connected = self._connected, False
            if was_connected and not self._closed:
                self._say(f"lost the connection to {self._broker} ({reason})")
        if self._follow is not None and self._follow.lost is not None:
            self._follow.lost()  # outside the lock: it may draw

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if self._follow is not None and msg.topic not in self._own_topics:
            self._follow.on_message(msg)
            return
        if msg.topic == self._topics.availability:
            # the will of this node's earlier connection, handed over late (a Pi that
            # rebooted before the broker's keepalive ran out): this agent is still here
            if msg.payload == OFFLINE.encode():
                with self._locked():
                    if self._connected and not self._closed:
                        self._publish(self._topics.availability, ONLINE)
                        self._note_offline()
            return
        # Home Assistant says "online" when it (re)starts: announce the sensors again
        if msg.payload.strip() == b"online":
            with self._locked():
                if self._connected:
                    self._send_discovery()
