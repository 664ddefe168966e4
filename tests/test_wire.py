"""The MQTT contract's own pieces (agent.shared.wire): topics both programs agree on,
and the gauge state's parser on what the gauge really sends."""

from __future__ import annotations

import json
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from agent.shared.wire.payloads import (
    MAX_PAYLOAD,
    NODE_STATE_COUNTS,
    Rejected,
    is_offline,
    parse_gauge_state,
)
from agent.shared.wire.topics import (
    NODE_KINDS,
    gauge_topics,
    node_filters,
    node_topic,
    node_topics,
)
from gauge.announce import Announcer


@pytest.mark.parametrize("prefix", ["swarmgauge", "room-2/pis"])
def test_every_topic_a_node_publishes_is_followed_and_read_back(prefix: str) -> None:
    topics = node_topics(prefix, "pi-7")
    published = {"state": topics.state, "availability": topics.availability}
    published["cluster"] = topics.cluster or ""
    assert set(published) == set(NODE_KINDS)
    for kind, topic in published.items():
        assert any(mqtt.topic_matches_sub(f, topic) for f in node_filters(prefix)), topic
        assert node_topic(prefix, topic) == ("pi-7", kind)
    gauge = gauge_topics(prefix)
    assert gauge.cluster is None
    for topic in (gauge.state, gauge.availability):  # the gauge does not follow itself
        assert not any(mqtt.topic_matches_sub(f, topic) for f in node_filters(prefix))
        assert node_topic(prefix, topic) is None


@pytest.mark.parametrize(
    "topic",
    [
        "other/node/pi-1/state",
        "swarmgaugeX/node/pi-1/state",
        "swarmgauge/node/pi+1/state",
        "swarmgauge/node//state",
        "swarmgauge/node/pi-1/state/more",
        "swarmgauge/node/pi-1/identify",
        "swarmgauge/node/pi-1",
        "swarmgauge/gauge/state",
        f"swarmgauge/node/{'a' * 65}/state",
    ],
)
def test_a_topic_outside_the_layout_is_not_a_node_topic(topic: str) -> None:
    assert node_topic("swarmgauge", topic) is None


def test_availability_is_online_or_offline_and_nothing_else() -> None:
    assert is_offline(b"offline") and not is_offline(b"online")
    for payload in (b"", b"Online", b"online\n", b"1", b"\xff"):
        with pytest.raises(Rejected):
            is_offline(payload)


def snapshot(strain: float | None, online: bool = True) -> dict[str, Any]:
    node = {"name": "pi-1", "online": online, "stale": False, "down": False}
    if strain is None:
        # as long as the gauge makes it: its reason and three managers' errors
        why = "; ".join(["no Swarm leader"] + [f"pi-{i}: " + "e" * 200 for i in range(3)])
        return {"strain": None, "desired": None, "running": None, "nodes": [node],
                "totals_unknown": why}  # fmt: skip
    return {"strain": strain, "desired": 4, "running": 3, "nodes": [node]}


def test_the_gauge_state_parser_reads_what_the_gauge_sends() -> None:
    now = [100.0]
    sent: list[dict[str, Any]] = []
    announcer = Announcer(sent.append, 0.9, clock=lambda: now[0], wall=lambda: 1.8e9)
    for strain in (0.25, 0.95, None):
        announcer.offer(snapshot(strain))
        now[0] += 5
        announcer.offer(snapshot(strain), changed=False)
    assert len(sent) == 3
    for state in sent:
        parsed = parse_gauge_state(json.dumps(state).encode())
        assert parsed.strain == state["strain"] and parsed.alarm is state["alarm"]
        assert (parsed.desired, parsed.running) == (state["desired"], state["running"])
        assert parsed.nodes == {k: state["nodes"][k] for k in NODE_STATE_COUNTS}
        assert parsed.sampled_at == 1.8e9
    unknown = parse_gauge_state(json.dumps(sent[-1]).encode())
    assert unknown.strain is None and unknown.desired is None  # unknown, never 0
    assert unknown.totals_unknown == sent[-1]["totals_unknown"]
    assert len(unknown.totals_unknown) > 600


GOOD: dict[str, Any] = {
    "schema": 1, "time": "2026-11-30T10:00:00.000Z", "strain": 0.5, "desired": 4,
    "running": 4, "totals_unknown": None, "alarm": False,
    "nodes": {"total": 1, "offline": 0, "stale": 0, "down": 0, "left": 0, "online": 1},
}  # fmt: skip


@pytest.mark.parametrize(
    "change",
    [
        {"schema": 2},
        {"strain": 1.5},
        {"strain": "0.5"},
        {"desired": -1},
        {"running": True},
        {"alarm": "yes"},
        {"alarm": None},
        {"nodes": {"total": 1}},
        {"nodes": []},
        {"time": "2026-11-30T10:00:00"},
        {"totals_unknown": "x" * 4097},
        {"totals_unknown": ""},
    ],
)
def test_a_gauge_state_out_of_its_schema_is_rejected(change: dict[str, Any]) -> None:
    assert parse_gauge_state(json.dumps(GOOD).encode()).strain == 0.5  # the base is good
    with pytest.raises(Rejected):
        parse_gauge_state(json.dumps({**GOOD, **change}).encode())


@pytest.mark.parametrize(
    "payload", [b"", b"not json", b"[" * 100_000, b"[]", b'"x"', b" " * (MAX_PAYLOAD + 1)]
)
def test_a_gauge_state_that_is_not_one_is_rejected(payload: bytes) -> None:
    with pytest.raises(Rejected):
        parse_gauge_state(payload)
