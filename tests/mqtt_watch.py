"""A real MQTT subscriber for the tests: records every message with its arrival time."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.helpers import validate


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool
    at: float  # time.time() on arrival

    def json(self) -> Any:
        return json.loads(self.payload)

    def sampled_at(self) -> float:
        """The `time` in a state, in seconds since the epoch."""
        return datetime.fromisoformat(self.json()["time"].replace("Z", "+00:00")).timestamp()


class Watcher:
    """Subscribes to `topic` on a broker; every state payload is checked against the schema."""

    def __init__(
        self,
        host: str,
        port: int,
        topic: str = "#",
        client_id: str = "test-watcher",
        auth: tuple[str, str] | None = None,
        ca_file: Path | None = None,
        client_cert: tuple[Path, Path] | None = None,
    ):
        self.messages: list[Received] = []
        self.invalid: list[str] = []  # payloads that failed their JSON Schema
        self._cond = threading.Condition()
        self._topic = topic
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.on_connect = lambda c, *_: c.subscribe(self._topic, qos=1)
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(1, 2)  # back soon after a broker restart
        if auth is not None:
            self._client.username_pw_set(*auth)
        if ca_file is not None:
            cert, key = client_cert or (None, None)
            self._client.tls_set(
                ca_certs=str(ca_file),
                certfile=str(cert) if cert else None,
                keyfile=str(key) if key else None,
            )
        self._client.connect(host, port, keepalive=30)
        self._client.loop_start()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        received = Received(msg.topic, bytes(msg.payload), bool(msg.retain), time.time())
        parts = msg.topic.split("/")
        kind = None
        if len(parts) >= 4 and parts[-3] == "node" and parts[-1] == "state":
            kind = "node"
        elif len(parts) >= 4 and parts[-3] == "node" and parts[-1] == "cluster":
            kind = "cluster"
        elif parts[-2:] == ["gauge", "state"]:
            kind = "gauge"
        if kind is not None:
            try:
                validate(kind, received.json())
            except Exception as exc:  # recorded, not raised: paho would kill its thread
                self.invalid.append(f"{msg.topic}: {exc}".splitlines()[0])
        with self._cond:
            self.messages.append(received)
            self._cond.notify_all()

    def wait_for(
        self, match: Callable[[Received], bool], timeout_s: float, after: int = 0
    ) -> Received | None:
        """The first message from index `after` on that matches, waiting up to timeout_s."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                for m in self.messages[after:]:
                    if match(m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def on(self, topic: str) -> list[Received]:
        with self._cond:
            return [m for m in self.messages if m.topic == topic]

    def on_cluster(self, prefix: str = "swarmgauge") -> list[Received]:
        """Every cluster state, whichever node published it (<prefix>/node/<node>/cluster)."""
        with self._cond:
            return [
                m for m in self.messages
                if m.topic.startswith(f"{prefix}/node/") and m.topic.endswith("/cluster")
            ]  # fmt: skip

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def topic_is(topic: str, payload: bytes | None = None) -> Callable[[Received], bool]:
    return lambda m: m.topic == topic and (payload is None or m.payload == payload)
