"""Bad input never stops the gauge nor changes an honest node's state."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.docker.readings import ClusterNode, ClusterReading, ClusterService
from agent.shared.wire.payloads import Rejected
from agent.snapshot import cluster_snapshot
from gauge.view import ClusterView
from tests.helpers import clean_env
from tests.peers.broker import Broker
from tests.peers.net import free_port, wait_for_port, wait_until
from tests.test_gauge import Publisher, node_payload

HONEST = {"pi-1": 0.2, "pi-2": 0.4}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)


def broken_state(draw_key: str, value: Any) -> bytes:
    """A real state of an honest node with one field replaced."""
    state = json.loads(node_payload("pi-1", 0.2))
    state[draw_key] = value
    return json.dumps(state).encode()


payloads = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(
        broken_state, st.sampled_from(["schema", "node", "strain", "tasks", "leds"]), json_values
    ),
    st.just(b"x" * (64 * 1024 + 1)),
)
topics = st.one_of(
    st.sampled_from(
        [
            "swarmgauge/node/pi-1/state",
            "swarmgauge/node/pi-2/state",
            "swarmgauge/node/pi-1/availability",
            "swarmgauge/node/pi-1/cluster",
            "swarmgauge/node/pi-1",
            "swarmgauge/node/a+b/state",
            "swarmgauge/whatever",
        ]
    ),
    st.text(max_size=40).map(lambda t: f"swarmgauge/{t}"),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(topics, payloads), max_size=20))
def test_fuzzed_messages_leave_honest_nodes_alone(messages: list[tuple[str, bytes]]) -> None:
    view = ClusterView("swarmgauge", stale_after_s=60, clock=lambda: 100.0)
    for name, strain in HONEST.items():
        view.apply(f"swarmgauge/node/{name}/state", node_payload(name, strain))
    before = {name: vars(view.nodes[name]).copy() for name in HONEST}
    accepted = set()
    for topic, payload in messages:
        try:
            view.apply(topic, payload)
            accepted.add(topic.split("/")[2] if topic.count("/") == 3 else topic)
        except Rejected:
            pass  # dropped, as it should be
    for name in HONEST:
        if name not in accepted:
            assert vars(view.nodes[name]) == before[name]
    snapshot = view.snapshot()
    assert 0.0 <= snapshot["strain"] <= 1.0


def huge_running(node: str) -> bytes:
    state = json.loads(node_payload(node, 0.2))
    state["tasks"]["running"] = 10**400
    return json.dumps(state).encode()


def huge_cluster() -> bytes:
    totals = {"desired": 10**400, "running": 1}
    return json.dumps({"schema": 1, "totals": totals}).encode()


def test_deep_json_and_huge_counts_are_rejected_not_raised() -> None:
    view = ClusterView("swarmgauge", stale_after_s=60, clock=lambda: 100.0)
    view.apply("swarmgauge/node/pi-1/state", node_payload("pi-1", 0.2))
    before = view.snapshot()
    for topic, payload in [
        ("swarmgauge/node/pi-1/state", b"[" * 60_000),
        ("swarmgauge/node/pi-1/state", b'{"a":' * 60_000),
        ("swarmgauge/node/pi-1/state", huge_running("pi-1")),
        ("swarmgauge/node/pi-1/cluster", huge_cluster()),
        ("swarmgauge/node/pi-1/cluster", b"[" * 60_000),
    ]:
        try:
            view.apply(topic, payload)
        except Rejected:
            continue
        raise AssertionError(f"accepted {payload[:40]!r} on {topic}")
    assert view.snapshot() == before


def test_gauge_process_survives_a_flood_of_garbage(broker: Broker, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "gauge.log"
    with log.open("wb") as out:
        gauge = subprocess.Popen(
            [sys.executable, "-m", "gauge", "--broker", broker.url, "--http", f"127.0.0.1:{port}"],
            env=clean_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    nodes = Publisher(broker)
    try:
        assert wait_for_port(port, 15)
        for name, strain in HONEST.items():
            nodes.state(name, strain)

        def cluster() -> dict[str, Any]:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/cluster", timeout=5) as r:
                return json.loads(r.read())  # type: ignore[no-any-return]

        assert wait_until(lambda: len(cluster()["nodes"]) == 2, 10)
        honest = cluster()
        garbage = [
            b"",
            b"{",
            b"\xff\xfe",
            b"[]",
            b'{"schema": 2}',
            b"x" * 70000,
            json.dumps({"schema": 1, "node": "pi-1", "strain": {"value": 7}}).encode(),
            b"[" * 60_000,  # once a RecursionError in the update thread: a frozen gauge
            huge_running("pi-1"),  # once an OverflowError
        ]
        for i in range(200):
            nodes.send(
                f"swarmgauge/node/pi-{i % 3 + 1}/state", garbage[i % len(garbage)], retain=False
            )
            nodes.send(f"swarmgauge/node/evil-{i}/whatever", b"?", retain=False)
        time.sleep(1)
        assert gauge.poll() is None, log.read_text()
        assert cluster() == honest
        text = log.read_text()
        assert "dropped" in text and text.count("dropped") < 5  # rate-limited
        assert "Traceback" not in text
    finally:
        nodes.close()
        gauge.terminate()
        gauge.wait(timeout=10)


def test_node_names_are_capped_and_live_nodes_are_never_pushed_out() -> None:
    now = [100.0]
    view = ClusterView("swarmgauge", stale_after_s=5, clock=lambda: now[0], max_nodes=50)
    for name, strain in HONEST.items():
        view.apply(f"swarmgauge/node/{name}/state", node_payload(name, strain))
    rejected = 0
    template = node_payload("fake-NNNNN", 1.0)
    for i in range(20_000):  # a spray of names: availability alone, and whole states
        view.apply(f"swarmgauge/node/fake-{i:05}/availability", b"online")
        try:
            payload = template.replace(b"fake-NNNNN", b"fake-%05d" % i)
            view.apply(f"swarmgauge/node/fake-{i:05}/state", payload)
        except Rejected as why:
            assert "more than 50 live nodes" in str(why)
            rejected += 1
    assert len(view.nodes) == 50 and rejected == 20_000 - 48
    assert set(HONEST) <= set(view.nodes)
    now[0] += 6  # all stale now: a newcomer takes the place of the one silent longest
    view.apply("swarmgauge/node/pi-9/state", node_payload("pi-9", 0.5))
    assert "pi-9" in view.nodes and "pi-1" not in view.nodes and len(view.nodes) == 50


def test_nodes_silent_past_forget_after_are_removed() -> None:
    now = [100.0]
    view = ClusterView("swarmgauge", stale_after_s=15, clock=lambda: now[0], forget_after_s=3600)
    view.apply("swarmgauge/node/pi-1/state", node_payload("pi-1", 0.2))
    view.apply("swarmgauge/node/pi-2/state", node_payload("pi-2", 0.2))
    now[0] += 3000
    view.apply("swarmgauge/node/pi-2/availability", b"offline")  # any message counts
    view.apply("swarmgauge/node/pi-3/state", node_payload("pi-3", 0.2))
    assert [n["name"] for n in view.snapshot()["nodes"]] == ["pi-1", "pi-2", "pi-3"]
    now[0] += 601  # pi-1 silent for an hour
    assert [n["name"] for n in view.snapshot()["nodes"]] == ["pi-2", "pi-3"]


def cluster_with(nodes: list[tuple[str, str]], publisher: str = "pi-1") -> bytes:
    """A cluster state (schema 1) naming `nodes` as (name, Swarm state), sampled now."""
    reading = ClusterReading(
        nodes=tuple(
            ClusterNode(
                f"id-{n}",
                n,
                "manager" if n == publisher else "worker",
                st,
                "active",
                n == publisher,
                1,
            )  # fmt: skip
            for n, st in nodes
        ),
        services=(ClusterService("web", "replicated", len(nodes), len(nodes)),),
    )
    state = cluster_snapshot(
        now=datetime.now(UTC), cluster=reading, capacity=8, publisher=publisher
    )
    return json.dumps(state).encode()


def test_live_states_are_fresh_whatever_the_senders_clock_retained_ones_by_their_time() -> None:
    """A Pi without a real-time clock, three hours behind, in a room without NTP."""
    now = [100.0]
    view = ClusterView("swarmgauge", stale_after_s=5, clock=lambda: now[0])
    behind = node_payload("pi-1", 0.2, age_s=3 * 3600)
    view.apply("swarmgauge/node/pi-1/state", behind, retained=True)
    assert view.snapshot()["nodes"][0]["stale"]  # from the broker's store: judged by its time
    view.apply("swarmgauge/node/pi-1/state", behind)  # live: sampled just now, by its clock
    assert not view.snapshot()["nodes"][0]["stale"]
    now[0] += 6
    assert view.snapshot()["nodes"][0]["stale"]  # and silence still counts


def test_swarms_word_on_a_down_node_outlives_the_totals() -> None:
    now = [100.0]
    view = ClusterView("swarmgauge", stale_after_s=5, clock=lambda: now[0])
    view.apply("swarmgauge/node/pi-1/state", node_payload("pi-1", 0.1, leader=True))
    view.apply("swarmgauge/node/pi-3/state", node_payload("pi-3", 0.9))
    view.apply("swarmgauge/node/pi-1/cluster", cluster_with([("pi-1", "ready"), ("pi-3", "down")]))
    first = view.snapshot()
    assert first["nodes"][1]["down"] and not first["nodes"][1]["counted"]
    assert first["totals_lost"] is False
    view.apply("swarmgauge/node/pi-1/availability", b"offline")  # the leader's agent is gone
    snap = view.snapshot()
    assert snap["desired"] is None and snap["totals_lost"] is True
    pi3 = snap["nodes"][1]
    assert pi3["down"] and not pi3["counted"] and pi3["in_swarm"] is None
    assert snap["strain"] is None  # pi-1 offline, pi-3 down: nothing counted, unknown


def test_topic_names_with_a_line_end_and_big_clusters() -> None:
    view = ClusterView("swarmgauge", stale_after_s=5)
    for topic in ("swarmgauge/node/pi-1\n/state", "swarmgauge/node/pi-1\n/availability"):
        try:
            view.apply(topic, node_payload("pi-1\n", 0.2) if "state" in topic else b"online")
        except Rejected:
            continue
        raise AssertionError(topic)
    names = [(f"pi-{i}", "ready") for i in range(450)]  # over 64 KiB of cluster state
    view.apply("swarmgauge/node/pi-0/state", node_payload("pi-0", 0.1, leader=True))
    view.apply("swarmgauge/node/pi-0/cluster", cluster_with(names, publisher="pi-0"))
    assert view.snapshot()["desired"] == 450
    assert view.cluster is not None and view.cluster.desired == 450


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=200))
def test_no_text_from_the_network_reaches_a_screen_with_control_characters(said: str) -> None:
    """Escape sequences would reach participants' terminals (workshop/needle, the log),
    bidi overrides would reorder the room's banner: a node's Docker error and a
    service's why are shown, control and format characters replaced."""
    import unicodedata

    view = ClusterView("swarmgauge", stale_after_s=60, clock=lambda: 100.0, wall=time.time)
    state = json.loads(node_payload("pi-1", 0.5, leader=True))
    state["docker"] = {"ok": False, "error": said}
    view.apply("swarmgauge/node/pi-1/state", json.dumps(state).encode())
    reading = ClusterReading(
        nodes=(ClusterNode("id-pi-1", "pi-1", "manager", "ready", "active", True, 0),),
        services=(ClusterService("web", "replicated", 2, 1, why=said),),
    )
    cluster = cluster_snapshot(now=datetime.now(UTC), cluster=reading, capacity=4, publisher="pi-1")
    view.apply("swarmgauge/node/pi-1/cluster", json.dumps(cluster).encode())
    snap = view.snapshot()
    shown = [snap["nodes"][0]["docker_error"], *(s["why"] for s in snap["services"])]
    shown += [snap["totals_unknown"] or ""]
    for text in shown:
        assert text is not None
        assert not any(unicodedata.category(c)[0] == "C" for c in text), repr(text)
