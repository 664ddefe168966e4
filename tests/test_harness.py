"""The real-peer harness itself: each broker kind carries a retained message."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.peers.broker import Broker


def retained_round_trip(broker: Broker) -> bytes | None:
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="harness-pub")
    pub.connect(broker.host, broker.port)
    pub.loop_start()
    pub.publish("harness/check", b"hello", qos=1, retain=True).wait_for_publish(5)
    pub.loop_stop()
    pub.disconnect()

    got: list[bytes] = []
    done = threading.Event()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="harness-sub")
    sub.on_connect = lambda c, *_: c.subscribe("harness/#", qos=1)
    sub.on_message = lambda _c, _u, msg: (got.append(msg.payload), done.set())
    sub.connect(broker.host, broker.port)
    sub.loop_start()
    done.wait(10)
    sub.loop_stop()
    sub.disconnect()
    return got[0] if got else None


@pytest.mark.parametrize("kind", ["mosquitto", "amqtt"])
def test_broker_kind_carries_retained_messages(kind: str, tmp_path: Path) -> None:
    if kind == "mosquitto" and shutil.which("mosquitto") is None:
        pytest.skip("mosquitto not installed (the harness falls back to amqtt)")
    with Broker(tmp_path, kind=kind) as broker:
        assert retained_round_trip(broker) == b"hello"


def test_broker_restarts_on_the_same_port(tmp_path: Path) -> None:
    broker = Broker(tmp_path).start()
    port = broker.port
    broker.stop()
    broker.start()
    try:
        assert broker.port == port
        assert retained_round_trip(broker) == b"hello"
    finally:
        broker.stop()
