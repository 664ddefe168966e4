"""The stack's secure broker (workshop/broker-start) on a real mosquitto: who may
connect, who may write where, and that an agent's connection cannot be taken over."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gauge.config import load_gauge_config
from gauge.runner import GaugeApp
from tests.helpers import AgentProcess, clean_env
from tests.leftovers import marked
from tests.mqtt_watch import Watcher, topic_is
from tests.peers.listener import hang_up, serve_each
from tests.peers.net import free_port, wait_until
from tests.peers.stack_broker import BROKER_START, PASSWORDS, StackBroker, node_password
from tests.test_gauge import cluster_payload, node_payload

pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto") is None or shutil.which("mosquitto_passwd") is None,
    reason="needs mosquitto and mosquitto_passwd (the stack's broker)",
)
NODES = ["pi-1", "pi-2"]
VIEWER = ("viewer", PASSWORDS["viewer"])


@pytest.fixture
def stack_broker(tmp_path: Path) -> Iterator[StackBroker]:
    with StackBroker(tmp_path, NODES) as b:
        yield b


def connack(
    broker: StackBroker,
    auth: tuple[str, str] | None,
    client_id: str = "probe",
    port: int | None = None,
) -> str:
    """What the broker says to a CONNECT (on the agents' port, or `port`): 'Success' or
    why not."""
    said: list[str] = []
    done = threading.Event()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    if auth is not None:
        c.username_pw_set(*auth)

    def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        said.append(str(reason))
        done.set()

    c.on_connect = on_connect
    c.connect(broker.host, port or broker.port)
    c.loop_start()
    try:
        done.wait(5)
    finally:
        c.disconnect()
        c.loop_stop()
    return said[0] if said else "no answer"


def node_agent(broker: StackBroker, node: str, log: Path) -> AgentProcess:
    """An agent for `node` that logs in as the stack's agents do (not yet started)."""
    return AgentProcess(
        [
            "--broker",
            broker.url_for(node),
            "--node-name",
            node,
            "--docker-host",
            "none",
            "--interval",
            "1",
            "--keepalive",
            "5",
        ],  # fmt: skip
        log,
        env=clean_env(SWARMGAUGE_BROKER_PASSWORD_FILE=str(broker.password_file(node))),
    )


def test_who_may_connect(stack_broker: StackBroker) -> None:
    b, viewers = stack_broker, stack_broker.viewer_port
    assert connack(b, None) == "Not authorized"
    assert connack(b, ("pi-1", "wrong")) == "Not authorized"
    assert connack(b, ("pi-9", node_password("pi-9"))) == "Not authorized"  # not a node
    assert connack(b, ("pi-1", node_password("pi-1"))) == "Success"
    assert connack(b, ("gauge", PASSWORDS["gauge"])) == "Success"
    assert connack(b, VIEWER, port=viewers) == "Success"
    assert connack(b, None, port=viewers) == "Not authorized"
    # one node cannot be another: pi-1's password is no login for pi-2
    assert connack(b, ("pi-2", node_password("pi-1"))) == "Not authorized"
    # each on its own listener: viewers cannot take the agents' slots, nor agents theirs
    assert connack(b, VIEWER) == "Not authorized"
    assert connack(b, ("pi-1", node_password("pi-1")), port=viewers) == "Not authorized"


def test_agents_write_only_their_own_topics_and_everyone_reads(
    stack_broker: StackBroker, tmp_path: Path
) -> None:
    with (
        node_agent(stack_broker, "pi-1", tmp_path / "pi-1.log") as agent,
        Watcher(
            stack_broker.host, stack_broker.viewer_port, "#", "viewer-1", auth=VIEWER
        ) as viewer,
    ):
        state = viewer.wait_for(topic_is("swarmgauge/node/pi-1/state"), 15)
        assert state is not None, agent.log()
        discovery = viewer.wait_for(
            lambda m: m.topic.startswith("homeassistant/sensor/swarmgauge_pi-1/"), 5
        )
        assert discovery is not None and json.loads(discovery.payload)["state_topic"]
        # pi-1's user forges pi-2; a viewer forges pi-1 and the cluster: none arrives
        forger = Watcher(stack_broker.host, stack_broker.port, "x", "forger",
                         auth=("pi-1", node_password("pi-1")))  # fmt: skip
        with forger:
            forger.publish("swarmgauge/node/pi-2/state", b"forged", retain=True)
            forger.publish("swarmgauge/node/pi-2/cluster", b"forged", retain=True)
            forger.publish("swarmgauge/cluster/state", b"forged", retain=True)  # the old topic
            forger.publish("homeassistant/sensor/swarmgauge_pi-2/cpu/config", b"{}", retain=True)
        viewer.publish("swarmgauge/node/pi-1/availability", b"offline", retain=True)
        viewer.publish("swarmgauge/node/pi-1/cluster", b'{"forged":1}', retain=True)
        viewer.publish("swarmgauge/node/pi-1/state", b"forged", retain=True)
        time.sleep(1.5)
        assert not [m for m in viewer.messages if b"forged" in m.payload or b"{}" == m.payload]
        assert not viewer.on("swarmgauge/node/pi-2/state")
        assert b"offline" not in [m.payload for m in viewer.on("swarmgauge/node/pi-1/availability")]
    # a late subscriber finds nothing forged retained either
    with Watcher(stack_broker.host, stack_broker.viewer_port, "#", "viewer-2", auth=VIEWER) as late:
        assert late.wait_for(topic_is("swarmgauge/node/pi-1/availability"), 5)
        time.sleep(0.5)
        assert not [m for m in late.messages if b"forged" in m.payload]


def test_a_node_reads_the_gauges_state_and_nothing_else(stack_broker: StackBroker) -> None:
    """--led-mode cluster: a node's user may read the gauge's state and availability;
    another node's topics stay hidden, and the gauge's state is the gauge's alone."""
    b = stack_broker
    with (
        Watcher(b.host, b.port, "x", "gauge-pub", auth=("gauge", PASSWORDS["gauge"])) as gauge,
        Watcher(b.host, b.port, "x", "pi-2-pub", auth=("pi-2", node_password("pi-2"))) as pi2,
    ):
        gauge.publish("swarmgauge/gauge/state", b'{"from":"gauge"}', retain=True)
        gauge.publish("swarmgauge/gauge/availability", b"online", retain=True)
        pi2.publish("swarmgauge/node/pi-2/state", b'{"from":"pi-2"}', retain=True)
    with Watcher(b.host, b.port, "#", "pi-1-reads", auth=("pi-1", node_password("pi-1"))) as pi1:
        assert pi1.wait_for(topic_is("swarmgauge/gauge/state"), 5), pi1.messages
        assert pi1.wait_for(topic_is("swarmgauge/gauge/availability"), 5), pi1.messages
        pi1.publish("swarmgauge/gauge/state", b'{"from":"pi-1"}', retain=True)
        time.sleep(1.0)
        assert {m.topic for m in pi1.messages} == {
            "swarmgauge/gauge/state", "swarmgauge/gauge/availability"
        }  # fmt: skip
    with Watcher(b.host, b.viewer_port, "#", "viewer-late", auth=VIEWER) as late:
        state = late.wait_for(topic_is("swarmgauge/gauge/state"), 5)
        assert state is not None and state.payload == b'{"from":"gauge"}'
        assert late.wait_for(topic_is("swarmgauge/node/pi-2/state"), 5)  # it was there


def test_only_the_gauge_and_the_operator_may_ask_a_node_to_show_itself(
    stack_broker: StackBroker,
) -> None:
    """Identify: a viewer or another node asking pi-1 to flash never reaches it."""
    b = stack_broker
    topic = "swarmgauge/node/pi-1/identify"
    pi1_auth = ("pi-1", node_password("pi-1"))
    with Watcher(b.host, b.port, topic, "pi-1-listens", auth=pi1_auth) as pi1:
        time.sleep(0.5)  # subscribed
        askers = [
            (b.port, ("pi-2", node_password("pi-2")), b"2"),
            (b.viewer_port, VIEWER, b"3"),
            (b.port, ("gauge", PASSWORDS["gauge"]), b"4"),
            (b.port, ("operator", PASSWORDS["operator"]), b"5"),
            # where the stack publishes the broker: the operator logs in there too
            (b.viewer_port, ("operator", PASSWORDS["operator"]), b"6"),
        ]
        for port, auth, seconds in askers:
            with Watcher(b.host, port, "x", f"ask-{auth[0]}-{port}", auth=auth) as asker:
                asker.publish(topic, seconds)
        assert pi1.wait_for(lambda m: m.payload == b"6", 5)
        time.sleep(0.5)
        assert [m.payload for m in pi1.messages] == [b"4", b"5", b"6"]
    # and pi-1 hears no other node's requests
    with Watcher(b.host, b.port, "swarmgauge/node/+/identify", "pi-1-all", auth=pi1_auth) as all_:
        with Watcher(b.host, b.port, "x", "op", auth=("operator", PASSWORDS["operator"])) as op:
            time.sleep(0.5)
            op.publish("swarmgauge/node/pi-2/identify", b"6")
            op.publish(topic, b"7")
        assert all_.wait_for(lambda m: m.payload == b"7", 5)
        assert [m.topic for m in all_.messages] == [topic]


def test_the_gauge_logs_in_and_sees_every_node(stack_broker: StackBroker, tmp_path: Path) -> None:
    args = ["--broker", stack_broker.url_for("gauge"), "--http", f"127.0.0.1:{free_port()}",
            "--broker-password-file", str(stack_broker.password_file("gauge"))]  # fmt: skip
    app = GaugeApp(load_gauge_config(args, {}))
    app.start()
    try:
        with (
            node_agent(stack_broker, "pi-1", tmp_path / "pi-1.log"),
            node_agent(stack_broker, "pi-2", tmp_path / "pi-2.log"),
        ):
            assert app.web is not None
            url = app.web.url + "api/cluster"

            def online() -> list[str]:
                with urllib.request.urlopen(url, timeout=5) as r:
                    nodes = json.loads(r.read())["nodes"]
                return sorted(n["name"] for n in nodes if n["online"] and not n["stale"])

            assert wait_until(lambda: online() == NODES, 20), online()
    finally:
        app.close()


def test_an_agents_connection_cannot_be_taken_over(
    stack_broker: StackBroker, tmp_path: Path
) -> None:
    """A viewer (any holder of a password) connecting with the id the agent used to
    have, or with the node's name, does not throw the agent off: its id has a random
    part. And a late 'offline' (the will of the node's earlier connection, handed over
    after a quick reboot) is answered with 'online' at once."""
    with (
        node_agent(stack_broker, "pi-1", tmp_path / "pi-1.log") as agent,
        Watcher(
            stack_broker.host, stack_broker.viewer_port, "swarmgauge/node/pi-1/#", "w", auth=VIEWER
        ) as watch,  # fmt: skip
    ):
        assert watch.wait_for(topic_is("swarmgauge/node/pi-1/availability", b"online"), 15)
        for guess in ("swarmgauge-agent-pi-1", "pi-1", "swarmgauge-agent-pi-1-00000000"):
            assert connack(stack_broker, VIEWER, guess, stack_broker.viewer_port) == "Success"
            assert connack(stack_broker, ("pi-2", node_password("pi-2")), guess) == "Success"
        seen = len(watch.messages)
        time.sleep(2.5)
        assert "lost the connection" not in agent.log()
        assert watch.wait_for(topic_is("swarmgauge/node/pi-1/state"), 2, seen)

        with Watcher(stack_broker.host, stack_broker.port, "x", "old-self",
                     auth=("pi-1", node_password("pi-1"))) as old:  # fmt: skip
            seen = len(watch.messages)
            old.publish("swarmgauge/node/pi-1/availability", b"offline", retain=True)
        assert watch.wait_for(topic_is("swarmgauge/node/pi-1/availability", b"offline"), 5, seen)
        back = watch.wait_for(topic_is("swarmgauge/node/pi-1/availability", b"online"), 5, seen)
        assert back is not None, agent.log()
        assert wait_until(lambda: "another program publishes as pi-1" in agent.log(), 5)


def test_a_node_that_is_not_listed_is_told_why(stack_broker: StackBroker, tmp_path: Path) -> None:
    with node_agent(stack_broker, "pi-9", tmp_path / "pi-9.log") as agent:
        assert wait_until(lambda: "refused" in agent.log(), 10), agent.log()
        time.sleep(2.5)
        assert agent.alive()
    lines = [line for line in agent.log().splitlines() if "refused" in line]
    assert len(lines) == 1 and "SWARMGAUGE_NODES" in lines[0], lines
    assert node_password("pi-9") not in agent.log()


def test_the_open_variant_lets_anyone_in_and_says_so(tmp_path: Path) -> None:
    with StackBroker(tmp_path, NODES, open_=True) as b:
        assert connack(b, None) == "Success"
        assert wait_until(lambda: "OPEN" in b.log_tail(), 5)
        with node_agent(b, "pi-1", tmp_path / "pi-1.log") as agent:  # its password: ignored
            with Watcher(b.host, b.port, "swarmgauge/#", "anon") as watch:
                assert watch.wait_for(topic_is("swarmgauge/node/pi-1/state"), 15), agent.log()


def test_node_names_that_would_share_topics_or_are_not_host_names_are_left_out(
    tmp_path: Path,
) -> None:
    nodes = ["pi.2", "pi_2", "*", "-v", ".x", "gauge", "operator", "pi-3", "pi-3"]
    with StackBroker(tmp_path, nodes) as b:
        assert wait_until(lambda: "node user(s)" in b.log_tail(), 5)
        users = [line.split()[1] for line in (b.run_dir / "agents.acl").read_text().splitlines()
                 if line.startswith("user ")]  # fmt: skip
        log = b.log_tail(40)
        assert connack(b, ("pi.2", node_password("pi.2"))) == "Success"
        assert connack(b, ("pi_2", node_password("pi_2"))) == "Not authorized"
    assert users == ["gauge", "operator", "pi.2", "pi-3"]  # the room's two, and the nodes
    assert "another node's topics are already pi_2" in log
    for refused in ("*", "-v", ".x", "gauge", "operator"):
        assert f"node name '{refused}' left out" in log


@pytest.mark.parametrize("secret", ["abc ", " abc", "   ", "ab\\cd", "a:b", ""])
def test_a_secret_the_clients_could_not_match_stops_the_broker(tmp_path: Path, secret: str) -> None:
    b = StackBroker(tmp_path, NODES)
    (b.secrets / "agent_passwords").write_text(f"pi-1:{secret}\n")
    env = b._env()
    done = subprocess.run(["sh", str(BROKER_START)], env=env, capture_output=True, text=True,
                          timeout=10)  # fmt: skip
    b.stop()
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "secret agent_passwords (pi-1)" in done.stderr


def test_the_gauge_writes_only_its_own_topics_and_nodes_cannot_speak_for_it(
    tmp_path: Path,
) -> None:
    """The gauge's state, will and cluster device reach a viewer; a node (even one
    named "cluster") cannot forge them, and the gauge cannot forge a node."""
    with StackBroker(tmp_path, ["pi-1", "cluster"]) as b:
        args = ["--broker", b.url_for("gauge"), "--http", "none",
                "--broker-password-file", str(b.password_file("gauge"))]  # fmt: skip
        app = GaugeApp(load_gauge_config(args, {}))
        with Watcher(b.host, b.viewer_port, "#", "viewer", auth=VIEWER) as viewer:
            app.start()
            try:
                with Watcher(b.host, b.port, "x", "pi-1",
                             auth=("pi-1", node_password("pi-1"))) as pi1:  # fmt: skip
                    pi1.publish("swarmgauge/node/pi-1/state", node_payload("pi-1", 0.3), True)
                assert viewer.wait_for(topic_is("swarmgauge/gauge/state"), 10), b.log_tail()
                assert viewer.wait_for(topic_is("swarmgauge/gauge/availability", b"online"), 5)
                cluster = "homeassistant/binary_sensor/swarmgauge_cluster/alarm/config"
                assert viewer.wait_for(topic_is(cluster), 5)
                for node in ("pi-1", "cluster"):
                    with Watcher(b.host, b.port, "x", f"forger-{node}",
                                 auth=(node, node_password(node))) as forger:  # fmt: skip
                        forger.publish("swarmgauge/gauge/state", b"forged", retain=True)
                        forger.publish("swarmgauge/gauge/availability", b"forged", retain=True)
                        forger.publish(cluster, b"forged", retain=True)
                        forger.publish(
                            "homeassistant/sensor/swarmgauge_cluster/strain/config", b"forged"
                        )
                with Watcher(b.host, b.port, "x", "gauge-forger",
                             auth=("gauge", PASSWORDS["gauge"])) as gauge:  # fmt: skip
                    gauge.publish("swarmgauge/node/pi-1/state", b"forged", retain=True)
                    gauge.publish("swarmgauge/node/pi-1/cluster", b"forged", retain=True)
                    gauge.publish("homeassistant/sensor/swarmgauge_pi-1/cpu/config", b"forged")
                # the node named "cluster" has a device of its own it may announce
                with Watcher(b.host, b.port, "x", "cluster-node",
                             auth=("cluster", node_password("cluster"))) as named:  # fmt: skip
                    named.publish("homeassistant/sensor/swarmgauge__cluster/cpu/config",
                                  b'{"own":1}')  # fmt: skip
                time.sleep(1.5)
                assert not [m.topic for m in viewer.messages if m.payload == b"forged"]
                assert viewer.on("homeassistant/sensor/swarmgauge__cluster/cpu/config")
            finally:
                app.close()


@pytest.mark.parametrize("managers", [None, ["pi-2", "pi-3"]], ids=["gauge", "gauge+acl"])
def test_a_node_that_does_not_lead_cannot_forge_the_cluster(
    tmp_path: Path, managers: list[str] | None
) -> None:
    """Issue 20's breach, on the real broker: pi-1 says it is a manager and leads, and
    publishes a cluster of 1,000,000 tasks, its peers down, at 10 Hz (on its own topic,
    and on the old shared one). The managers pi-2 (the leader) and pi-3 name pi-2: the
    gauge shows pi-2's cluster in every read, and counts pi-1's as not_leader; with
    SWARMGAUGE_MANAGERS the broker does not even take it."""
    with StackBroker(tmp_path, ["pi-1", "pi-2", "pi-3"], managers=managers) as b:
        args = ["--broker", b.url_for("gauge"), "--http", f"127.0.0.1:{free_port()}",
                "--broker-password-file", str(b.password_file("gauge"))]  # fmt: skip
        app = GaugeApp(load_gauge_config(args, {}))
        app.start()
        stop = threading.Event()

        def speak(name: str, every_s: float, messages: Any) -> None:
            with Watcher(b.host, b.port, "x", f"as-{name}", auth=(name, node_password(name))) as c:
                while not stop.is_set():
                    for topic, payload in messages():
                        c.publish(topic, payload, retain=True)
                    stop.wait(every_s)

        speakers = [
            threading.Thread(target=speak, args=("pi-2", 0.5, lambda: [
                ("swarmgauge/node/pi-2/state", node_payload("pi-2", 0.2, leader=True)),
                ("swarmgauge/node/pi-2/cluster", cluster_payload(4, 4, publisher="pi-2")),
            ])),
            threading.Thread(target=speak, args=("pi-3", 0.5, lambda: [
                ("swarmgauge/node/pi-3/state", node_payload("pi-3", 0.2, sees="pi-2")),
            ])),
            threading.Thread(target=speak, args=("pi-1", 0.1, lambda: [
                ("swarmgauge/node/pi-1/state", node_payload("pi-1", 0.2, leader=True)),
                ("swarmgauge/node/pi-1/cluster", cluster_payload(1_000_000, 0)),
                ("swarmgauge/cluster/state", cluster_payload(1_000_000, 0)),
            ])),
        ]  # fmt: skip
        try:
            for t in speakers:
                t.start()
            assert app.web is not None
            seen: list[Any] = []
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline:
                with urllib.request.urlopen(app.web.url + "api/cluster", timeout=5) as r:
                    seen.append(json.loads(r.read())["desired"])
                time.sleep(0.03)
            with urllib.request.urlopen(app.web.url + "metrics", timeout=5) as r:
                metrics = r.read().decode()
        finally:
            stop.set()
            for t in speakers:
                t.join(10)
            app.close()
    print(f"{len(seen)} reads: {seen.count(4)} with pi-2's 4 tasks, the rest {set(seen) - {4}}")
    assert 1_000_000 not in seen and seen.count(4) > len(seen) // 2 and seen[-1] == 4
    series = 'swarmgauge_mqtt_messages_rejected_total{reason="not_leader"}'
    rejected = next(line for line in metrics.splitlines() if line.startswith(series))
    if managers is None:  # the gauge refused each
        assert float(rejected.split()[-1]) >= 10, rejected
    else:  # the broker took none: none reached the gauge
        assert float(rejected.split()[-1]) == 0, rejected


@pytest.mark.parametrize(
    "variable, value",
    [("SWARMGAUGE_PREFIX", "swarmgauge/"), ("SWARMGAUGE_PREFIX", "a b"),
     ("SWARMGAUGE_DISCOVERY_PREFIX", "home#"), ("SWARMGAUGE_PREFIX", "a//b")],
)  # fmt: skip
def test_a_prefix_the_acl_could_not_hold_stops_the_broker(
    tmp_path: Path, variable: str, value: str
) -> None:
    b = StackBroker(tmp_path, NODES)
    env = {**b._env(), variable: value}
    done = subprocess.run(["sh", str(BROKER_START)], env=env, capture_output=True, text=True,
                          timeout=10)  # fmt: skip
    b.stop()
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "topic prefix" in done.stderr, done.stderr


class RecordingRelay:
    """A TCP relay to the broker that keeps every byte both ways: what a sniffer on the
    room's Wi-Fi would see."""

    def __init__(self, host: str, port: int) -> None:
        self.seen = bytearray()
        self._upstream = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        serve_each(self._listener, self._relay)

    def _relay(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self._upstream)
        except OSError:  # the broker is gone: so is this client
            client.close()
            return
        threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()
        self._pipe(client, upstream)

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                self.seen += data
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                s.close()

    def close(self) -> None:
        hang_up(self._listener)


def test_tls_keeps_the_passwords_off_the_wire_and_checks_the_broker(tmp_path: Path) -> None:
    """Issue 20: passwords crossed the Wi-Fi in clear. With the stack's TLS (the CA and
    certificate workshop/passwords makes), a sniffer between an agent and the broker
    sees no password, a viewer reads over TLS too, and a plain client gets nothing."""
    with StackBroker(tmp_path, ["pi-1"], tls=True) as b:
        relay = RecordingRelay(b.host, b.port)
        agent = AgentProcess(
            ["--broker", f"mqtts://pi-1@localhost:{relay.port}", "--ca-file", str(b.ca_file),
             "--node-name", "pi-1", "--docker-host", "none", "--interval", "1"],
            tmp_path / "agent.log",
            env=clean_env(SWARMGAUGE_BROKER_PASSWORD_FILE=str(b.password_file("pi-1"))),
        )  # fmt: skip
        try:
            with (
                agent,
                Watcher(
                    "localhost",
                    b.viewer_port,
                    "swarmgauge/#",
                    "tls-viewer",
                    auth=VIEWER,
                    ca_file=b.ca_file,
                ) as viewer,  # fmt: skip
            ):
                assert viewer.wait_for(topic_is("swarmgauge/node/pi-1/state"), 20), agent.log()
            assert connack(b, VIEWER, port=b.viewer_port) == "no answer"  # plain MQTT: no
        finally:
            relay.close()
    assert len(relay.seen) > 2000  # the agent's states went through the relay
    assert node_password("pi-1").encode() not in relay.seen
    assert b"swarmgauge/node" not in relay.seen  # nor the topics, nor the states


def test_an_agent_that_cannot_check_the_broker_says_so_in_one_line(tmp_path: Path) -> None:
    """A broker whose certificate no given CA signed (a participant's fake broker)."""
    with StackBroker(tmp_path, ["pi-1"], tls=True) as b:
        other = tmp_path / "other-ca"
        other.mkdir()
        env = marked({"PATH": os.environ["PATH"], "SWARMGAUGE_SECRETS": str(other),
                      "SWARMGAUGE_NODES": "pi-1"})  # fmt: skip
        subprocess.run(["sh", str(BROKER_START.parent / "passwords")], env=env, check=True,
                       capture_output=True)  # fmt: skip
        agent = AgentProcess(
            ["--broker", f"mqtts://pi-1@localhost:{b.port}", "--ca-file", str(other / "ca.crt"),
             "--node-name", "pi-1", "--docker-host", "none", "--interval", "1"],
            tmp_path / "agent.log",
            env=clean_env(SWARMGAUGE_BROKER_PASSWORD_FILE=str(b.password_file("pi-1"))),
        )  # fmt: skip
        with agent:
            assert wait_until(lambda: "certificate" in agent.log(), 15), agent.log()
            time.sleep(2)
            assert agent.alive()
    lines = [line for line in agent.log().splitlines() if "certificate" in line]
    print("\n" + lines[0])
    assert "Traceback" not in agent.log() and len(lines) <= 2, agent.log()
    assert node_password("pi-1") not in agent.log()
