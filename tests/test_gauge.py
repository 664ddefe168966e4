"""The gauge against a real broker, with gpiozero's mock pins and its web view."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from agent.docker.readings import (
    ClusterNode,
    ClusterReading,
    ClusterService,
    LeaderSeen,
    SwarmReading,
)
from agent.host import HostReading
from agent.snapshot import cluster_snapshot, node_snapshot
from agent.strain import Strain
from gauge.config import load_gauge_config
from gauge.runner import GaugeApp
from tests.helpers import validate
from tests.peers.broker import Broker
from tests.peers.net import free_port, wait_until


def node_payload(
    name: str,
    strain: float,
    tasks: int = 1,
    leader: bool = False,
    age_s: float = 0.0,
    sees: str | None = None,
) -> bytes:
    """A real node state, made by the agent's own snapshot function, sampled age_s ago:
    a worker's, or a manager's that `sees` a leader (a leader sees itself)."""
    sees = sees or (name if leader else None)
    host = HostReading(strain * 100, 0.1, 1, 10.0, None)
    state = node_snapshot(
        node=name,
        now=datetime.now(UTC) - timedelta(seconds=age_s),
        host=host,
        swarm=SwarmReading(
            ok=True,
            role="manager" if sees else "worker",
            leader=leader,
            sees_leader=LeaderSeen(f"id-{sees}", sees) if sees else None,
            tasks_by_service={"web": tasks} if tasks else {},
        ),
        strain=Strain(strain, strain, 0.1, tasks / 8),
        interval_s=1.0,
        leds=[(0, 255, 0, 0.1)] * 2 + [(0, 0, 0, 0.0)] * 6,
    )
    validate("node", state)
    return json.dumps(state).encode()


class Publisher:
    def __init__(self, broker: Broker) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-nodes")
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def send(self, topic: str, payload: bytes, retain: bool = True) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def state(self, name: str, strain: float) -> None:
        self.send(f"swarmgauge/node/{name}/state", node_payload(name, strain))

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def mock_pins() -> Iterator[Any]:
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    Device.pin_factory = MockFactory(pin_class=MockPWMPin)
    yield Device.pin_factory
    Device.pin_factory.reset()
    Device.pin_factory = None


@pytest.fixture
def nodes(broker: Broker) -> Iterator[Publisher]:
    p = Publisher(broker)
    yield p
    p.close()


def start_gauge(broker: Broker, *flags: str) -> GaugeApp:
    args = ["--broker", broker.url, "--http", f"127.0.0.1:{free_port()}", *flags]
    app = GaugeApp(load_gauge_config(args, {}))
    app.start()
    return app


def api(app: GaugeApp) -> dict[str, Any]:
    assert app.web is not None
    with urllib.request.urlopen(app.web.url + "api/cluster", timeout=5) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


def api_until(app: GaugeApp, check: Any, timeout_s: float = 10) -> dict[str, Any]:
    found = wait_until(lambda: (c := api(app)) and check(c) and c, timeout_s)
    assert found, api(app)
    return found  # type: ignore[no-any-return]


PINS = ["--needle-pin", "17", "--bar-pins", "5,6,13,19,26", "--alarm-pin", "21"]


def test_three_nodes_offline_and_stale(broker: Broker, nodes: Publisher, mock_pins: Any) -> None:
    for name, strain in (("pi-1", 0.2), ("pi-2", 0.4), ("pi-3", 0.9)):
        nodes.state(name, strain)
    app = start_gauge(broker, *PINS, "--stale-after", "3")
    try:
        cluster = api_until(app, lambda c: len(c["nodes"]) == 3)
        assert cluster["strain"] == 0.5
        assert [(n["name"], n["online"], n["stale"]) for n in cluster["nodes"]] == [
            ("pi-1", True, False),
            ("pi-2", True, False),
            ("pi-3", True, False),
        ]
        assert cluster["nodes"][0]["leds"][0] == [0, 255, 0, 0.1]
        # the needle settles on 0° (strain 0.5 on -90..90), then lets go
        needle = app.outputs.needle
        assert needle is not None
        assert wait_until(lambda: not needle.moving, 10)
        assert needle.angle == 0.0 and needle.servo.value is None
        pwm = [s.state for s in mock_pins.pin(17).states]
        assert pwm[-1] == 0  # detached: no pulses, no judder
        assert pwm[-2] == pytest.approx(0.075)  # 1.5 ms of 20 ms: the middle
        assert [mock_pins.pin(p).state for p in (5, 6, 13, 19, 26)] == [1, 1, 0, 0, 0]
        assert not mock_pins.pin(21).state  # no alarm at 0.5

        nodes.send("swarmgauge/node/pi-3/availability", b"offline")
        cluster = api_until(app, lambda c: not c["nodes"][2]["online"])
        assert cluster["strain"] == 0.3  # (0.2 + 0.4) / 2
        assert wait_until(lambda: mock_pins.pin(21).state, 5)  # a node offline: alarm on

        # pi-1 keeps talking, pi-2 falls silent
        deadline = time.monotonic() + 4.5
        while time.monotonic() < deadline:
            nodes.state("pi-1", 0.2)
            time.sleep(0.5)
        cluster = api(app)
        assert [(n["name"], n["stale"]) for n in cluster["nodes"]] == [
            ("pi-1", False),
            ("pi-2", True),
            ("pi-3", True),
        ]
        assert cluster["strain"] == 0.2
    finally:
        app.close()
    assert [mock_pins.pin(p).state for p in (5, 6, 13, 19, 26, 21)] == [0] * 6  # all off


def cluster_payload(
    desired: int, running: int, age_s: float = 0.0, publisher: str = "pi-1"
) -> bytes:
    """The leader's cluster state as its agent publishes it, sampled age_s ago."""
    reading = ClusterReading(
        nodes=(ClusterNode("id1", publisher, "manager", "ready", "active", True, running),),
        services=(ClusterService("web", "replicated", desired, running),),
    )
    state = cluster_snapshot(
        now=datetime.now(UTC) - timedelta(seconds=age_s),
        cluster=reading,
        capacity=8,
        publisher=publisher,
    )
    validate("cluster", state)
    return json.dumps(state).encode()


def test_leader_totals_count_while_fresh_and_their_publisher_online(
    broker: Broker, nodes: Publisher, mock_pins: Any
) -> None:
    nodes.send("swarmgauge/node/pi-1/state", node_payload("pi-1", 0.1, leader=True))
    nodes.send("swarmgauge/node/pi-1/availability", b"online")
    nodes.send("swarmgauge/node/pi-1/cluster", cluster_payload(4, 1))
    app = start_gauge(broker, *PINS)
    try:
        cluster = api_until(app, lambda c: c["desired"] == 4)
        assert cluster["strain"] == 0.75 and cluster["running"] == 1
        assert cluster["totals_unknown"] is None
        assert cluster["nodes"][0]["swarm_state"] == "ready" and cluster["nodes"][0]["counted"]
        needle = app.outputs.needle
        assert needle is not None and wait_until(lambda: not needle.moving, 10)
        angle = needle.angle

        # its publisher is gone: the totals are unknown, not 0 of 0, and the needle holds
        nodes.send("swarmgauge/node/pi-1/availability", b"offline")
        cluster = api_until(app, lambda c: c["desired"] is None)
        assert cluster["running"] is None and cluster["strain"] is None
        assert cluster["totals_unknown"] == "its publisher pi-1 is offline"
        time.sleep(0.5)
        assert needle.angle == angle and not needle.moving
    finally:
        app.close()


def test_retained_states_older_than_stale_after_are_stale_at_once(
    broker: Broker, nodes: Publisher
) -> None:
    """A leader died 97 s ago and nobody took over: its retained words are history."""
    nodes.send("swarmgauge/node/pi-1/state", node_payload("pi-1", 0.1, leader=True, age_s=97))
    nodes.send("swarmgauge/node/pi-1/availability", b"online")
    nodes.send("swarmgauge/node/pi-2/state", node_payload("pi-2", 0.4))
    nodes.send("swarmgauge/node/pi-1/cluster", cluster_payload(9, 9, age_s=97))
    app = start_gauge(broker, "--stale-after", "5")
    try:
        cluster = api_until(app, lambda c: len(c["nodes"]) == 2)
        assert [(n["name"], n["stale"]) for n in cluster["nodes"]] == [
            ("pi-1", True),
            ("pi-2", False),
        ]
        assert (cluster["desired"], cluster["running"]) == (None, None)
        assert re.fullmatch(r"the last cluster state is 9\d s old", cluster["totals_unknown"])
        assert cluster["strain"] == 0.4
    finally:
        app.close()


def test_events_stream_pushes_changes(broker: Broker, nodes: Publisher) -> None:
    app = start_gauge(broker)
    try:
        assert app.web is not None
        stream = urllib.request.urlopen(app.web.url + "events", timeout=10)
        assert stream.readline() == b"retry: 2000\n"
        first = json.loads(stream.readline().removeprefix(b"data: "))
        assert first["nodes"] == []
        stream.readline()
        nodes.state("pi-7", 0.6)
        pushed = json.loads(stream.readline().removeprefix(b"data: "))
        assert [n["name"] for n in pushed["nodes"]] == ["pi-7"]
        stream.close()
    finally:
        app.close()


def test_bad_flags_exit_2_with_one_line() -> None:
    import subprocess
    import sys

    for args, name in (
        (["--stale-after", "0"], "--stale-after"),
        (["--http", "nowhere"], "--http"),
        (["--needle-pin", "99"], "--needle-pin"),
        (["--bar-pins", "5,x"], "--bar-pins"),
        (["--min-angle", "10", "--max-angle", "10"], "--min-angle"),
    ):
        r = subprocess.run([sys.executable, "-m", "gauge", *args], capture_output=True, text=True)
        assert r.returncode == 2, args
        assert r.stderr.strip().splitlines() == [r.stderr.strip()]
        assert r.stderr.startswith("swarmgauge-gauge: error: ") and name in r.stderr


def test_the_bar_is_written_only_when_its_lit_count_changes(
    mock_pins: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five on/off LEDs: 0.41 and 0.59 both light two; the second must not rewrite them
    (gpiozero's bar value is lit/5, never 0.41, so comparing with strain always wrote)."""
    from gpiozero import LEDBarGraph

    from gauge.outputs import Outputs

    writes: list[float] = []
    value = LEDBarGraph.value
    monkeypatch.setattr(
        LEDBarGraph,
        "value",
        property(value.fget, lambda bar, v: (writes.append(v), value.fset(bar, v))),
    )
    outputs = Outputs(bar_pins=[5, 6, 13, 19, 26])
    writes.clear()  # gpiozero's own, at construction
    try:
        for strain in (0.41, 0.59, 0.41, 0.6, 0.6, 1.0, 0.0):
            outputs.show({"strain": strain, "nodes": []})
        assert writes == [0.4, 0.6, 1.0, 0.0]
        lit = [p for p in (5, 6, 13, 19, 26) if mock_pins.pin(p).state]
        assert lit == []
        outputs.show({"strain": 0.6, "nodes": []})
        assert [p for p in (5, 6, 13, 19, 26) if mock_pins.pin(p).state] == [5, 6, 13]
    finally:
        outputs.close()


def test_one_node_name_rule_in_code_and_schemas() -> None:
    from agent.shared.wire.names import NODE_NAME_PATTERN, is_node_name, safe_name
    from agent.shared.wire.schemas import load_schema

    for kind, path in (("node", ("properties", "node")), ("cluster", ("properties", "publisher"))):
        schema = load_schema(kind)
        for key in path:
            schema = schema[key]
        assert schema["pattern"] == NODE_NAME_PATTERN
    for raw in ("pi zero/1+#", "pi.local", "x" * 100, "--", ""):
        assert is_node_name(safe_name(raw))
    assert not is_node_name("a/b") and not is_node_name("x" * 65)
