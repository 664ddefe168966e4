"""/metrics: the gauge's Prometheus text, scraped by a real Prometheus (Debian's
package, on loopback) while real agents feed the gauge through the test broker;
the values are asked back from Prometheus' HTTP API. promtool lints the text."""

from __future__ import annotations

import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gauge.metrics import ClusterCollector, MessageCounts, metrics_page
from gauge.runner import GaugeApp
from tests.helpers import AgentProcess
from tests.mqtt_watch import Watcher
from tests.peers.broker import Broker
from tests.peers.net import wait_until
from tests.peers.prometheus import Prometheus
from tests.test_gauge import Publisher, cluster_payload, node_payload, start_gauge

needs_prometheus = pytest.mark.skipif(
    shutil.which("prometheus") is None or shutil.which("promtool") is None,
    reason="needs Debian's prometheus package (prometheus, promtool)",
)


def node(name: str, **fields: Any) -> dict[str, Any]:
    """A node as /api/cluster lists it."""
    return {
        "name": name, "online": True, "stale": False, "strain": 0.5, "tasks_running": 2,
        "cpu_percent": 50.0, "memory_percent": 25.0, "docker_ok": True,
        "swarm_state": "ready", "down": False, "in_swarm": True, **fields,
    }  # fmt: skip


def samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, labels): value} from Prometheus' text format."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text.decode())
        for s in family.samples
    }


def test_unknown_is_absent_never_zero() -> None:
    snapshot = {
        "strain": None, "desired": None, "running": None, "totals_unknown": "no leader",
        "totals_lost": True,
        "nodes": [node("pi-1", cpu_percent=None, memory_percent=None, swarm_state=None)],
    }  # fmt: skip
    got = samples(metrics_page(lambda: snapshot, MessageCounts(), 0.9)())
    names = {name for name, _ in got}
    for absent in ("swarmgauge_cluster_strain_ratio", "swarmgauge_cluster_desired_tasks",
                   "swarmgauge_cluster_running_tasks", "swarmgauge_node_cpu_ratio",
                   "swarmgauge_node_memory_ratio", "swarmgauge_node_swarm_state"):  # fmt: skip
        assert absent not in names, absent
    assert got[("swarmgauge_cluster_totals_known", ())] == 0
    assert got[("swarmgauge_cluster_alarm", ())] == 1  # totals lost
    assert got[("swarmgauge_node_strain_ratio", (("node", "pi-1"),))] == 0.5
    assert "process_resident_memory_bytes" in names


def test_each_node_state_and_each_reason_is_a_series() -> None:
    counts = MessageCounts(accepted=7)
    counts.rejected["not_json"] = 2
    snapshot = {
        "strain": 0.4, "desired": 6, "running": 5, "totals_unknown": None, "totals_lost": False,
        "nodes": [node("a"), node("b", stale=True), node("c", online=False),
                  node("d", down=True, swarm_state="down"), node("e", in_swarm=False)],
    }  # fmt: skip
    got = samples(b"".join(m for m in [metrics_page(lambda: snapshot, counts, 0.9)()]))
    by_state = {dict(labels)["state"]: v for (name, labels), v in got.items()
                if name == "swarmgauge_cluster_nodes"}  # fmt: skip
    assert by_state == {"online": 1, "stale": 1, "offline": 1, "down": 1, "left": 1}
    assert got[("swarmgauge_cluster_desired_tasks", ())] == 6
    assert got[("swarmgauge_node_swarm_state", (("node", "d"), ("state", "down")))] == 1
    assert got[("swarmgauge_node_swarm_state", (("node", "d"), ("state", "ready")))] == 0
    assert got[("swarmgauge_node_cpu_ratio", (("node", "a"),))] == 0.5
    # an offline or stale node's last readings are not now's: absent; Swarm's word stays
    strains = {
        dict(labels)["node"] for (name, labels) in got if name == "swarmgauge_node_strain_ratio"
    }
    assert strains == {"a", "d", "e"}
    assert got[("swarmgauge_node_online", (("node", "c"),))] == 0
    assert got[("swarmgauge_node_swarm_state", (("node", "c"), ("state", "ready")))] == 1
    assert got[("swarmgauge_mqtt_messages_accepted_total", ())] == 7
    rejected = {dict(labels)["reason"]: v for (name, labels), v in got.items()
                if name == "swarmgauge_mqtt_messages_rejected_total"}  # fmt: skip
    assert rejected["not_json"] == 2 and rejected["topic"] == 0 and len(rejected) == 10


def test_a_scrape_reads_nothing_but_the_snapshot_it_is_given() -> None:
    calls = []

    def snapshot() -> dict[str, Any]:
        calls.append(1)
        return {"strain": 0.1, "desired": None, "running": None, "nodes": []}

    collector = ClusterCollector(snapshot, MessageCounts(), 0.9)
    page = metrics_page(snapshot, MessageCounts(), 0.9)
    assert calls == [] and collector.describe() == []  # registering collects nothing
    page()
    page()
    assert len(calls) == 2


@pytest.fixture
def nodes(broker: Broker) -> Iterator[Publisher]:
    p = Publisher(broker)
    yield p
    p.close()


def agent(broker: Broker, name: str, tmp_path: Path) -> AgentProcess:
    """A real agent that samples once and then holds (its state stays what it said)."""
    args = ["--broker", broker.url, "--node-name", name, "--docker-host", "none",
            "--interval", "600", "--display", "none"]  # fmt: skip
    return AgentProcess(args, tmp_path / f"{name}.log")


def metrics_text(app: GaugeApp) -> bytes:
    assert app.web is not None
    with urllib.request.urlopen(app.web.url + "metrics", timeout=5) as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return bytes(r.read())


@needs_prometheus
def test_prometheus_scrapes_the_cluster_and_every_node(
    broker: Broker, nodes: Publisher, tmp_path: Path
) -> None:
    app = start_gauge(broker, "--stale-after", "3600")
    assert app.web is not None
    target = app.web.url.removeprefix("http://").rstrip("/")
    try:
        with (
            Watcher(broker.host, broker.port, "swarmgauge/node/+/state", "w") as watch,
            agent(broker, "n1", tmp_path) as a1,
            agent(broker, "n2", tmp_path) as a2,
            Prometheus(tmp_path, [target]) as prom,
        ):
            said = {}
            for name, a in (("n1", a1), ("n2", a2)):
                found = watch.wait_for(lambda m, n=name: m.topic.split("/")[2] == n, 15)
                assert found is not None, a.log()
                said[name] = found.json()
            labels = {name: (("node", name),) for name in said}

            def strains() -> dict[Any, float]:
                return prom.query("swarmgauge_node_strain_ratio")

            assert wait_until(lambda: len(strains()) == 2, 20), (strains(), prom.log_tail())
            assert strains() == {labels[n]: s["strain"]["value"] for n, s in said.items()}
            cpu = prom.query("swarmgauge_node_cpu_ratio")
            assert cpu == {labels[n]: s["host"]["cpu_percent"] / 100 for n, s in said.items()}
            memory = prom.query("swarmgauge_node_memory_ratio")
            assert memory == {labels[n]: s["host"]["memory_percent"] / 100 for n, s in said.items()}
            assert prom.query("swarmgauge_node_docker_ok") == {labels["n1"]: 0, labels["n2"]: 0}
            assert prom.query("swarmgauge_node_online") == {labels["n1"]: 1, labels["n2"]: 1}
            assert prom.query("swarmgauge_node_running_tasks") == {labels["n1"]: 0, labels["n2"]: 0}
            mean = round(sum(s["strain"]["value"] for s in said.values()) / 2, 3)
            assert prom.query("swarmgauge_cluster_strain_ratio") == {(): mean}
            # no leader's state: the totals are absent in Prometheus, not 0
            assert prom.query("swarmgauge_cluster_desired_tasks") == {}
            assert prom.query("swarmgauge_cluster_totals_known") == {(): 0}

            # a leader appears: its totals are scraped; it goes: they are gone again
            nodes.send("swarmgauge/node/pi-1/state", node_payload("pi-1", 0.1, leader=True))
            nodes.send("swarmgauge/node/pi-1/availability", b"online")
            nodes.send("swarmgauge/node/pi-1/cluster", cluster_payload(4, 3))
            assert wait_until(
                lambda: prom.query("swarmgauge_cluster_desired_tasks") == {(): 4}, 10
            ), prom.query("swarmgauge_cluster_totals_known")
            assert prom.query("swarmgauge_cluster_running_tasks") == {(): 3}
            ready = prom.query('swarmgauge_node_swarm_state{node="pi-1"}')
            assert ready[(("node", "pi-1"), ("state", "ready"))] == 1
            # the leader's state lists only pi-1: n1 and n2 are no longer in the Swarm
            by_state = {
                dict(k)["state"]: v for k, v in prom.query("swarmgauge_cluster_nodes").items()
            }
            assert by_state == {"online": 1, "left": 2, "stale": 0, "offline": 0, "down": 0}
            nodes.send("swarmgauge/node/pi-1/availability", b"offline")
            assert wait_until(lambda: prom.query("swarmgauge_cluster_desired_tasks") == {}, 10)
            assert prom.query("swarmgauge_cluster_totals_known") == {(): 0}

            nodes.send("swarmgauge/node/n9/state", b"{not json", retain=False)
            rejected = 'swarmgauge_mqtt_messages_rejected_total{reason="not_json"}'
            assert wait_until(lambda: prom.query(rejected) == {(("reason", "not_json"),): 1}, 10)
            assert prom.query("swarmgauge_mqtt_messages_accepted_total")[()] >= 6

            text = metrics_text(app)
            lint = subprocess.run(["promtool", "check", "metrics"], input=text,
                                  capture_output=True, timeout=30)  # fmt: skip
            assert lint.returncode == 0, lint.stdout + lint.stderr
            assert prom.query('up{job="swarmgauge"}') == {(): 1}
    finally:
        app.close()


def test_no_metrics_flag_means_no_metrics(broker: Broker) -> None:
    app = start_gauge(broker, "--no-metrics")
    assert app.web is not None
    try:
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(app.web.url + "metrics", timeout=5)
        assert missing.value.code == 404
    finally:
        app.close()
