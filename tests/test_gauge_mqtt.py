"""The gauge on MQTT: its own state (<prefix>/gauge/state), its last will, and the
whole cluster as one Home Assistant device, on a real broker. Home Assistant's
templates are rendered with Jinja2, as Home Assistant renders them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest

from agent.shared.wire.discovery import discovery_messages
from agent.shared.wire.topics import gauge_topics, node_topics
from gauge.announce import Announcer
from gauge.discovery import cluster_discovery
from tests.ha_discovery import check_discovery
from tests.helpers import clean_env, validate
from tests.mqtt_watch import Received, Watcher, topic_is
from tests.peers.broker import Broker
from tests.test_gauge import Publisher, node_payload, start_gauge

STATE = "swarmgauge/gauge/state"
AVAILABILITY = "swarmgauge/gauge/availability"
TEMPLATES = jinja2.Environment(undefined=jinja2.StrictUndefined)


def render(config: dict[str, Any], payload: bytes) -> str:
    """What Home Assistant makes of a state message with this entity's template."""
    value_json = json.loads(payload)
    return TEMPLATES.from_string(config["value_template"]).render(value_json=value_json).strip()


def configs(messages: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """Discovery configs by entity key."""
    return {topic.split("/")[-2]: json.loads(payload) for topic, payload in messages}


@pytest.fixture
def nodes(broker: Broker) -> Iterator[Publisher]:
    p = Publisher(broker)
    yield p
    p.close()


def test_every_discovery_config_is_one_home_assistant_accepts() -> None:
    node = discovery_messages(node_topics("swarmgauge", "pi-1"), "homeassistant", True)
    cluster = cluster_discovery(gauge_topics("swarmgauge"), "homeassistant")
    assert len(node) == 6 and len(cluster) == 6
    for topic, payload in [*node, *cluster]:
        platform = topic.split("/")[1]
        config = json.loads(payload)
        assert check_discovery(platform, config) == [], topic
        assert config["origin"]["name"] == "swarmgauge"
        assert config["unique_id"].startswith(topic.split("/")[2])
    for _, payload in node:
        assert json.loads(payload)["device"]["via_device"] == "swarmgauge_cluster"
    docker = configs(node)["docker"]
    assert (docker["device_class"], docker["entity_category"]) == ("connectivity", "diagnostic")
    # a node named "cluster" is not the cluster's device
    named = discovery_messages(node_topics("swarmgauge", "cluster"), "homeassistant", False)
    assert {json.loads(p)["device"]["identifiers"][0] for _, p in named} == {"swarmgauge__cluster"}
    other = discovery_messages(node_topics("swarmgauge", "node_cluster"), "homeassistant", False)
    assert json.loads(other[0][1])["device"]["identifiers"] == ["swarmgauge_node_cluster"]


def test_node_templates_read_a_real_node_state() -> None:
    node = configs(discovery_messages(node_topics("swarmgauge", "pi-1"), "homeassistant", True))
    payload = node_payload("pi-1", 0.25, tasks=3)
    shown = {key: render(config, payload) for key, config in node.items()}
    assert shown == {
        "strain": "25.0",
        "cpu": "25.0",
        "memory": "10.0",
        "temperature": "None",  # no sensor in this state: unknown, not 0
        "tasks": "3",
        "docker": "ON",
    }
    # Docker not readable at all: the tasks are unknown ("None" is unknown to Home
    # Assistant's MQTT sensor), never 0
    unknown = json.loads(payload)
    unknown["tasks"]["running"] = None
    unknown["docker"] = {"ok": False, "error": "Docker refused the connection"}
    blind = json.dumps(unknown).encode()
    assert render(node["tasks"], blind) == "None" and render(node["docker"], blind) == "OFF"


def snapshot_with(strain: float | None, online: bool = True) -> dict[str, Any]:
    node = {"name": "pi-1", "online": online, "stale": False, "down": False, "in_swarm": None}
    return {"strain": strain, "desired": None, "running": None, "nodes": [node]}


def test_a_change_held_back_by_the_interval_is_sent_once_it_passes() -> None:
    now = [100.0]
    sent: list[dict[str, Any]] = []
    announcer = Announcer(sent.append, 0.9, clock=lambda: now[0], wall=lambda: 1.8e9)
    announcer.offer({"strain": None, "desired": None, "running": None, "nodes": []})
    assert sent == []  # nothing known yet: not "0 nodes online"
    announcer.offer(snapshot_with(0.1))
    now[0] += 1.0
    announcer.offer(snapshot_with(0.1), changed=False)
    assert sent == []  # the first node known: the others' retained states are on the way
    now[0] += 1.0
    announcer.offer(snapshot_with(0.1), changed=False)
    assert [s["strain"] for s in sent] == [0.1]
    announcer.offer(snapshot_with(0.1))  # the same numbers: nothing more
    now[0] += 0.3
    announcer.offer(snapshot_with(0.2))  # too soon: held back
    announcer.offer(snapshot_with(0.2), changed=False)
    assert [s["strain"] for s in sent] == [0.1]
    now[0] += 0.7
    announcer.offer(snapshot_with(0.2), changed=False)  # the gauge's once-a-second refresh
    assert [s["strain"] for s in sent] == [0.1, 0.2]
    now[0] += 5
    announcer.offer(snapshot_with(0.2), changed=False)
    announcer.offer(snapshot_with(None, online=False))  # unknown and offline: at once
    assert sent[-1]["strain"] is None and sent[-1]["alarm"] and len(sent) == 3
    assert sent[-1]["nodes"]["offline"] == 1 and sent[-1]["time"].endswith("Z")
    for state in sent:
        validate("gauge", state)


def test_an_ageing_reason_is_not_a_change() -> None:
    now = [100.0]
    sent: list[dict[str, Any]] = []
    announcer = Announcer(sent.append, 0.9, clock=lambda: now[0], wall=lambda: 1.8e9)
    for age in range(16, 60):  # the leader's agent gone: "… N s old", N growing
        now[0] += 1
        snapshot = {
            **snapshot_with(0.3),
            "totals_unknown": f"the last cluster state is {age} s old",
        }
        announcer.offer(snapshot)
    assert len(sent) == 1, [s["totals_unknown"] for s in sent]


def gauge_states(watch: Watcher, after: int = 0) -> list[Received]:
    return [m for m in watch.messages[after:] if m.topic == STATE]


def test_the_cluster_device_follows_the_nodes(broker: Broker, nodes: Publisher) -> None:
    with Watcher(broker.host, broker.port, "#", "ha") as ha:
        app = start_gauge(broker, "--stale-after", "5")
        try:
            nodes.state("pi-1", 0.2)
            nodes.state("pi-2", 0.4)
            first = ha.wait_for(lambda m: m.topic == STATE and m.json()["nodes"]["online"] == 2, 10)
            assert first is not None, [m.topic for m in ha.messages]
            assert ha.wait_for(topic_is(AVAILABILITY, b"online"), 5)
            announced = {
                m.topic.split("/")[-2]: m.json()
                for m in ha.messages
                if "/swarmgauge_cluster/" in m.topic and m.topic.endswith("/config")
            }
            assert set(announced) == {
                "strain", "desired", "running", "nodes_online", "nodes_stale", "alarm"
            }  # fmt: skip
            for key, config in announced.items():
                assert config["availability_topic"] == AVAILABILITY, key
                assert config["state_topic"] == STATE, key

            def shown(message: Received) -> dict[str, str]:
                return {k: render(c, message.payload) for k, c in announced.items()}

            # no leader's cluster state: the totals are unknown in Home Assistant, not 0
            assert shown(first) == {
                "strain": "30.0", "desired": "None", "running": "None",
                "nodes_online": "2", "nodes_stale": "0", "alarm": "OFF",
            }  # fmt: skip
            seen = len(ha.messages)
            nodes.state("pi-2", 1.0)  # mean 0.6
            later = ha.wait_for(lambda m: m.topic == STATE and m.json()["strain"] == 0.6, 10, seen)
            assert later is not None
            assert shown(later)["strain"] == "60.0"
            seen = len(ha.messages)
            nodes.send("swarmgauge/node/pi-1/availability", b"offline")
            alarm = ha.wait_for(lambda m: m.topic == STATE and m.json()["alarm"], 10, seen)
            assert alarm is not None and shown(alarm)["alarm"] == "ON"
            assert alarm.json()["nodes"] == {
                "total": 2, "offline": 1, "stale": 0, "down": 0, "left": 0, "online": 1
            }  # fmt: skip
            assert not ha.invalid, ha.invalid
        finally:
            app.close()
    # a clean stop says offline itself
    assert ha.on(AVAILABILITY)[-1].payload == b"offline"


def test_the_gauge_state_is_sent_on_change_and_at_most_once_a_second(
    broker: Broker, nodes: Publisher
) -> None:
    app = start_gauge(broker)
    try:
        with Watcher(broker.host, broker.port, STATE, "ha") as ha:
            nodes.state("pi-1", 0.1)
            assert ha.wait_for(lambda m: m.json()["strain"] == 0.1, 10)
            seen = len(ha.messages)
            for i in range(40):  # a busy node: 40 strains in 2 s
                nodes.state("pi-1", 0.2 + i / 100)
                time.sleep(0.05)
            assert ha.wait_for(lambda m: m.json()["strain"] == 0.59, 5, seen)
            time.sleep(2)  # nothing changes any more: nothing more is sent
            live = gauge_states(ha, seen)
            assert 2 <= len(live) <= 4, [m.json()["strain"] for m in live]
            gaps = [b.at - a.at for a, b in zip(live, live[1:], strict=False)]
            assert min(gaps) > 0.8, gaps
            assert live[-1].json()["strain"] == 0.59
    finally:
        app.close()


def wait_output(path: Path, text: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in path.read_text():
            return True
        time.sleep(0.1)
    return False


def test_the_gauges_will_marks_the_cluster_unavailable_when_it_is_killed(
    broker: Broker, nodes: Publisher, tmp_path: Path
) -> None:
    log = tmp_path / "gauge.log"
    nodes.state("pi-1", 0.3)
    with Watcher(broker.host, broker.port, "swarmgauge/gauge/#", "ha") as ha:
        with log.open("wb") as out:
            gauge = subprocess.Popen(
                [sys.executable, "-m", "gauge", "--broker", broker.url, "--http", "none",
                 "--keepalive", "5"],
                env=clean_env(), stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            assert ha.wait_for(lambda m: m.topic == STATE and m.json()["strain"] == 0.3, 15), (
                log.read_text()
            )
            assert ha.wait_for(topic_is(AVAILABILITY, b"online"), 5)
            seen = len(ha.messages)
            os.kill(gauge.pid, signal.SIGKILL)
            gauge.wait(timeout=5)
            # the broker sees the socket close and publishes the will at once
            assert ha.wait_for(topic_is(AVAILABILITY, b"offline"), 5, seen), log.read_text()
        finally:
            if gauge.poll() is None:
                gauge.kill()
                gauge.wait(timeout=5)
    # and a Home Assistant that starts now finds the device unavailable (retained)
    with Watcher(broker.host, broker.port, AVAILABILITY, "ha-late") as late:
        found = late.wait_for(topic_is(AVAILABILITY), 5)
        assert found is not None and found.payload == b"offline" and found.retain
