"""The stack's broker (workshop/broker-start on a real mosquitto) under the floods of
issue 20, from whoever holds a password: its memory stays bounded (measured, the
process's resident size), and the agents still get in while viewers and strangers
hold every connection they can."""

from __future__ import annotations

import os
import shutil
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from agent.shared.wire.discovery import NODE_ENTITIES
from tests.mqtt_watch import Watcher
from tests.peers.stack_broker import BROKER_START, PASSWORDS, StackBroker, node_password

pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto") is None or shutil.which("mosquitto_passwd") is None,
    reason="needs mosquitto and mosquitto_passwd (the stack's broker)",
)
NODES = ["pi-1", "pi-2", "pi-3"]
MAX_MESSAGE = 262144  # broker-start's default


@pytest.fixture
def stack_broker(tmp_path: Path) -> Iterator[StackBroker]:
    with StackBroker(tmp_path, NODES) as b:
        yield b


def rss_mib(b: StackBroker) -> float:
    assert b.proc is not None
    status = Path(f"/proc/{b.proc.pid}/status").read_text()
    return (
        int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
        / 1024
    )


def open_files(b: StackBroker) -> int:
    assert b.proc is not None
    return len(os.listdir(f"/proc/{b.proc.pid}/fd"))


def _field(data: bytes) -> bytes:
    return struct.pack("!H", len(data)) + data


def _packet(kind: int, body: bytes) -> bytes:
    length, out = len(body), b""
    while True:  # MQTT's variable-length integer
        byte, length = length % 128, length // 128
        out += bytes([byte | (0x80 if length else 0)])
        if not length:
            return bytes([kind]) + out + body


def connect_packet(client_id: str, user: str, password: str) -> bytes:
    """MQTT 3.1.1 CONNECT, clean session, keepalive 0: the broker never times it out."""
    flags = 0x80 | 0x40 | 0x02
    body = _field(b"MQTT") + bytes([4, flags]) + struct.pack("!H", 0)
    body += _field(client_id.encode()) + _field(user.encode()) + _field(password.encode())
    return _packet(0x10, body)


def mute_client(b: StackBroker, port: int, auth: tuple[str, str], name: str,
                subscribe: str | None = None) -> tuple[socket.socket, bool]:  # fmt: skip
    """A client that logs in (and subscribes, QoS 1) and then never reads again; whether
    the broker said yes."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills at once: the broker queues
    s.settimeout(3)
    try:
        s.connect((b.host, port))
        s.sendall(connect_packet(name, *auth))
        accepted = s.recv(4) == b"\x20\x02\x00\x00"
    except OSError:
        return s, False
    if accepted and subscribe is not None:
        s.sendall(_packet(0x82, struct.pack("!H", 1) + _field(subscribe.encode()) + b"\x01"))
    return s, accepted


def publisher(b: StackBroker, node: str) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"flood-{node}")
    c.username_pw_set(node, node_password(node))
    c.connect(b.host, b.port)
    c.loop_start()
    return c


def test_a_node_with_mute_subscribers_and_the_largest_messages_stays_bounded(
    stack_broker: StackBroker,
) -> None:
    """One node's user, 4 subscribers of its own topic that never read, and messages as
    large as it may send: before, 36 → 1,580 MiB (100 queued 4.3 MB messages a client)."""
    b = stack_broker
    topic = "swarmgauge/node/pi-1/state"
    mutes = [mute_client(b, b.port, ("pi-1", node_password("pi-1")), f"mute-{i}", topic)
             for i in range(4)]  # fmt: skip
    assert all(ok for _, ok in mutes)
    before = rss_mib(b)
    pub = publisher(b, "pi-1")
    try:
        huge = pub.publish(topic, b"x" * (4 * 1024 * 1024), qos=1)  # over the limit: dropped
        huge.wait_for_publish(5) if huge.rc == mqtt.MQTT_ERR_SUCCESS else None
    except (RuntimeError, ValueError):
        pass  # the broker closed the connection on the oversized packet
    pub.loop_stop()
    pub.disconnect()
    pub = publisher(b, "pi-1")
    sent = 0
    payload = b"y" * (MAX_MESSAGE - 1024)
    try:
        for _ in range(200):
            info = pub.publish(topic, payload, qos=1, retain=True)
            info.wait_for_publish(5)
            sent += len(payload)
        time.sleep(1.0)
        after = rss_mib(b)
    finally:
        pub.loop_stop()
        pub.disconnect()
        for s, _ in mutes:
            s.close()
    print(f"\nmosquitto {before:.1f} → {after:.1f} MiB after {sent / 2**20:.0f} MiB "
          f"to 4 subscribers that never read")  # fmt: skip
    assert sent >= 40 * 2**20  # the flood went through (acknowledged by the broker)
    assert after - before < 24, (before, after)


def test_a_node_cannot_keep_more_retained_messages_than_its_own_topics(
    stack_broker: StackBroker,
) -> None:
    """Before: 100 retained 4 MiB topics under its own subtree added 384 MiB, and sent
    400 MiB to a viewer in 2 s. Now its topics are named one by one."""
    b = stack_broker
    before = rss_mib(b)
    pub = publisher(b, "pi-1")
    payload = b"z" * (MAX_MESSAGE - 1024)
    try:
        for i in range(100):
            pub.publish(f"swarmgauge/node/pi-1/x{i}", payload, qos=1, retain=True).wait_for_publish(
                5
            )
            pub.publish(f"homeassistant/sensor/swarmgauge_pi-1/x{i}/config", payload, qos=1,
                        retain=True).wait_for_publish(5)  # fmt: skip
    finally:
        pub.loop_stop()
        pub.disconnect()
    time.sleep(0.5)
    after = rss_mib(b)
    viewer = ("viewer", PASSWORDS["viewer"])
    with Watcher(b.host, b.viewer_port, "#", "late-viewer", auth=viewer) as late:
        time.sleep(2.0)
        received = sum(len(m.payload) for m in late.messages)
    print(f"\nmosquitto {before:.1f} → {after:.1f} MiB after 200 retained messages of "
          f"{len(payload) // 1024} KiB; a viewer then got {received} bytes")  # fmt: skip
    assert received == 0  # none was kept: not its topics
    assert after - before < 8, (before, after)


def test_the_acl_names_every_entity_the_agent_announces() -> None:
    """broker-start writes each node's Home Assistant entities by name: the same list."""
    text = BROKER_START.read_text()
    sensors = next(line for line in text.splitlines() if line.startswith("SENSORS="))
    binary = next(line for line in text.splitlines() if line.startswith("BINARY_SENSORS="))
    assert sensors.split("=", 1)[1].strip('"').split() == [
        e.key for e in NODE_ENTITIES if e.platform == "sensor"
    ]
    assert binary.split("=", 1)[1].strip('"').split() == [
        e.key for e in NODE_ENTITIES if e.platform == "binary_sensor"
    ]


def test_viewers_and_strangers_cannot_starve_the_agents(stack_broker: StackBroker) -> None:
    """Before: 499 idle viewer clients (keepalive 0) kept every agent out for 158 s, and
    bare sockets blocked logins ~90 s a wave. Now the viewers have their own listener."""
    b = stack_broker
    viewer = ("viewer", PASSWORDS["viewer"])
    held: list[socket.socket] = []
    accepted = 0
    try:
        for i in range(499):
            s, ok = mute_client(b, b.viewer_port, viewer, f"idle-{i}")
            held.append(s)
            accepted += ok
        for _ in range(300):  # strangers: sockets that never log in
            try:
                held.append(socket.create_connection((b.host, b.viewer_port), timeout=1))
            except OSError:
                break
        files = open_files(b)
        agents_in = []
        for node in NODES:
            s, ok = mute_client(b, b.port, (node, node_password(node)), f"agent-{node}")
            held.append(s)
            agents_in.append(ok)
        gauge_in = mute_client(b, b.port, ("gauge", PASSWORDS["gauge"]), "gauge")
        held.append(gauge_in[0])
    finally:
        for s in held:
            s.close()
    print(
        f"\n499 idle viewers: {accepted} let in; with them and 300 bare sockets held, "
        f"mosquitto holds {files} files; agents in: {agents_in}, gauge in: {gauge_in[1]}"
    )
    assert accepted == 100  # the viewers' listener's limit
    assert agents_in == [True, True, True] and gauge_in[1]
    assert files < 100 + 2 * len(NODES) + 16 + 40, files
