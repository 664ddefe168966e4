"""The long-running agent against a real MQTT broker: the MQTT contract in the README."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.helpers import AgentProcess, clean_env, run_agent
from tests.mqtt_watch import Received, Watcher, topic_is
from tests.peers.broker import Broker
from tests.peers.net import free_port, wait_until
from tests.peers.tls import make_ca, make_server_cert

STATE = "swarmgauge/node/n1/state"
AVAILABILITY = "swarmgauge/node/n1/availability"


def agent_args(broker_url: str, *extra: str) -> list[str]:
    return ["--broker", broker_url, "--node-name", "n1", "--docker-host", "none", *extra]


def sampled_at(m: Received) -> float:
    return datetime.fromisoformat(m.json()["time"].replace("Z", "+00:00")).timestamp()


needs_mosquitto = pytest.mark.skipif(
    shutil.which("mosquitto") is None, reason="needs mosquitto (auth and TLS listeners)"
)


def test_late_subscriber_gets_retained_state_and_online(broker: Broker, tmp_path: Path) -> None:
    with AgentProcess(agent_args(broker.url, "--interval", "1"), tmp_path / "agent.log") as agent:
        with Watcher(broker.host, broker.port, "swarmgauge/#", "early") as early:
            assert early.wait_for(topic_is(STATE), 15), agent.log()
        with Watcher(broker.host, broker.port, "swarmgauge/#", "late") as late:
            online = late.wait_for(topic_is(AVAILABILITY, b"online"), 5)
            state = late.wait_for(topic_is(STATE), 5)
            assert online is not None and online.retain
            assert state is not None and state.retain
            assert state.json()["node"] == "n1"
            assert len(state.json()["leds"]) == 8  # the frame shown, even with --display none
            assert late.invalid == [] and early.invalid == []
        assert agent.alive()


def test_sigkill_leaves_offline_by_last_will(broker: Broker, tmp_path: Path) -> None:
    keepalive = 5
    args = agent_args(broker.url, "--interval", "1", "--keepalive", str(keepalive))
    with Watcher(broker.host, broker.port, AVAILABILITY) as watch:
        with AgentProcess(args, tmp_path / "agent.log") as agent:
            assert watch.wait_for(topic_is(AVAILABILITY, b"online"), 15), agent.log()
            seen = len(watch.messages)
            agent.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
            killed_at = time.time()
            offline = watch.wait_for(topic_is(AVAILABILITY, b"offline"), 1.5 * keepalive, seen)
        assert offline is not None, "no offline within 1.5 × keepalive"
        print(f"offline {offline.at - killed_at:.2f} s after SIGKILL")
    with Watcher(broker.host, broker.port, AVAILABILITY, "after") as after:
        retained = after.wait_for(topic_is(AVAILABILITY), 5)
        assert retained is not None and retained.payload == b"offline" and retained.retain


def test_sigterm_publishes_offline_and_exits_0_within_2s(broker: Broker, tmp_path: Path) -> None:
    with Watcher(broker.host, broker.port, AVAILABILITY) as watch:
        agent = AgentProcess(agent_args(broker.url, "--interval", "1"), tmp_path / "a.log").start()
        try:
            assert watch.wait_for(topic_is(AVAILABILITY, b"online"), 15), agent.log()
            seen = len(watch.messages)
            started = time.monotonic()
            agent.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
            code = agent.proc.wait(timeout=10)  # type: ignore[union-attr]
            took = time.monotonic() - started
        finally:
            agent.stop()
        assert code == 0, agent.log()
        assert took < 2.0, f"took {took:.2f} s"
        assert watch.wait_for(topic_is(AVAILABILITY, b"offline"), 2, seen)
    assert "Traceback" not in agent.log()


def test_broker_restart_reconnects_without_backlog(tmp_path: Path) -> None:
    interval = 1.0
    broker = Broker(tmp_path).start()
    args = agent_args(broker.url, "--interval", str(interval))
    try:
        with AgentProcess(args, tmp_path / "agent.log") as agent:
            with Watcher(broker.host, broker.port, STATE, "before") as before:
                assert before.wait_for(topic_is(STATE), 15), agent.log()
            pid = agent.pid
            broker.stop()
            stopped_at = time.time()
            time.sleep(10)
            broker.start()  # same port; no persistence: the broker forgot every retained message
            back_at = time.time()
            with Watcher(broker.host, broker.port, STATE, "after") as after:
                first = after.wait_for(topic_is(STATE), 2 * interval + 2.0)
                assert first is not None, agent.log()
                print(f"first state {first.at - back_at:.2f} s after the broker came back")
                time.sleep(3 * interval)
                states = after.on(STATE)
                assert after.invalid == []
            assert agent.alive() and agent.pid == pid  # never restarted
    finally:
        broker.stop()
    times = [sampled_at(m) for m in states]
    assert times == sorted(times) and len(set(times)) == len(times)
    during_outage = [t for t in times if stopped_at < t < back_at]
    # at most the newest state held while the broker was away, none of the older ones
    assert len(during_outage) <= 1, f"a backlog of {len(during_outage)} stale states"
    if during_outage:
        assert during_outage[0] > back_at - 2 * interval, "the held state was not the newest"
    assert any(t > back_at for t in times), "no fresh state after the restart"
    assert "no broker listening" in agent.log() or "lost the connection" in agent.log()


def test_a_half_dead_link_leaves_no_backlog(tmp_path: Path) -> None:
    """The broker frozen (SIGSTOP) for 8 s: the connection stays up, as over a Wi-Fi cut
    shorter than 1.5 × the keepalive, and what the agent sent meanwhile arrives late,
    as live messages. At most one state is in flight: nothing else of that time comes."""
    interval = 0.5
    broker = Broker(tmp_path).start()
    assert broker.proc is not None
    args = agent_args(broker.url, "--interval", str(interval))
    try:
        with AgentProcess(args, tmp_path / "agent.log") as agent:
            with Watcher(broker.host, broker.port, STATE, "half-dead") as watch:
                assert watch.wait_for(topic_is(STATE), 15), agent.log()
                time.sleep(2 * interval)
                os.kill(broker.proc.pid, signal.SIGSTOP)
                frozen_at = time.time()
                time.sleep(8)
                os.kill(broker.proc.pid, signal.SIGCONT)
                thawed_at = time.time()
                time.sleep(4 * interval)
                live = [m for m in watch.on(STATE) if not m.retain]
            assert agent.alive(), agent.log()
    finally:
        if broker.proc is not None:
            os.kill(broker.proc.pid, signal.SIGCONT)
        broker.stop()
    held_back = [sampled_at(m) for m in live if frozen_at < sampled_at(m) < thawed_at - interval]
    print(f"{len(held_back)} state(s) sampled while the broker was frozen arrived")
    assert len(held_back) <= 2, f"a backlog of {len(held_back)} states"  # in flight + newest
    assert any(sampled_at(m) > thawed_at for m in live), "no fresh state after the thaw"
    times = [sampled_at(m) for m in live]
    assert times == sorted(times)


def test_broker_absent_at_start(tmp_path: Path) -> None:
    port = free_port()
    with AgentProcess(
        agent_args(f"mqtt://127.0.0.1:{port}", "--interval", "1"), tmp_path / "agent.log"
    ) as agent:
        time.sleep(3)
        assert agent.alive()
        assert "no broker listening at 127.0.0.1:" in agent.log()
        with Broker(tmp_path, port=port) as broker:
            with Watcher(broker.host, broker.port, STATE) as watch:
                assert watch.wait_for(topic_is(STATE), 10), agent.log()
        # said once, not once a retry
        assert agent.log().count("no broker listening") == 1


@needs_mosquitto
def test_password_auth(tmp_path: Path) -> None:
    password_file = tmp_path / "passwd"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(password_file), "pi", "s3cret-pw"], check=True
    )
    extra = f"allow_anonymous false\npassword_file {password_file}\n"
    with Broker(tmp_path, extra_config=extra) as broker:
        wrong = AgentProcess(
            agent_args(f"mqtt://pi:wrong-pw@127.0.0.1:{broker.port}", "--interval", "1"),
            tmp_path / "wrong.log",
        )
        with wrong:
            assert wait_until(lambda: "refused the connection" in wrong.log(), 10), wrong.log()
            time.sleep(2.5)  # it retries…
            assert wrong.alive()  # …and does not crash
        assert wrong.log().count("refused the connection") == 1  # said once, not each retry
        secret = tmp_path / "mqtt_password"
        secret.write_text("s3cret-pw\n")
        right = AgentProcess(
            agent_args(f"mqtt://pi@127.0.0.1:{broker.port}", "--interval", "1"),
            tmp_path / "right.log",
            env=clean_env(SWARMGAUGE_BROKER_PASSWORD_FILE=str(secret)),
        )
        with right, Watcher(broker.host, broker.port, STATE, auth=("pi", "s3cret-pw")) as watch:
            assert watch.wait_for(topic_is(STATE), 15), right.log()
            assert watch.invalid == []
        logs = wrong.log() + right.log()
    assert "wrong-pw" not in logs and "s3cret-pw" not in logs
    assert "Traceback" not in logs


@needs_mosquitto
def test_tls_with_the_right_and_the_wrong_ca(tmp_path: Path) -> None:
    ca, ca_key, ca_cert = make_ca(tmp_path, "workshop-ca")
    other_ca, _key, _cert = make_ca(tmp_path, "someone-elses-ca")
    crt, key = make_server_cert(tmp_path, ca_key, ca_cert)
    port = free_port()
    extra = f"listener {port} 127.0.0.1\ncafile {ca}\ncertfile {crt}\nkeyfile {key}\n"
    with Broker(tmp_path, port=port, extra_config=extra) as broker:
        url = f"mqtts://127.0.0.1:{broker.port}"
        with AgentProcess(
            agent_args(url, "--interval", "1", "--ca-file", str(other_ca)), tmp_path / "bad.log"
        ) as bad:
            assert wait_until(lambda: "not trusted" in bad.log(), 10), bad.log()
            assert bad.alive()
        assert "Traceback" not in bad.log()
        with (
            AgentProcess(
                agent_args(url, "--interval", "1", "--ca-file", str(ca)), tmp_path / "good.log"
            ) as good,
            Watcher(broker.host, broker.port, STATE, ca_file=ca) as watch,
        ):
            assert watch.wait_for(topic_is(STATE), 15), good.log()
            assert watch.invalid == []


@needs_mosquitto
def test_tls_with_a_client_certificate(tmp_path: Path) -> None:
    ca, ca_key, ca_cert = make_ca(tmp_path, "workshop-ca")
    crt, key = make_server_cert(tmp_path, ca_key, ca_cert)
    client_crt, client_key = make_server_cert(tmp_path, ca_key, ca_cert, name="agent")
    port = free_port()
    extra = (
        f"listener {port} 127.0.0.1\ncafile {ca}\ncertfile {crt}\nkeyfile {key}\n"
        "require_certificate true\n"
    )
    with Broker(tmp_path, port=port, extra_config=extra) as broker:
        url = f"mqtts://127.0.0.1:{broker.port}"
        args = agent_args(url, "--interval", "1", "--ca-file", str(ca))
        with AgentProcess(
            [*args, "--cert-file", str(client_crt), "--key-file", str(client_key)],
            tmp_path / "agent.log",
        ) as agent:
            with Watcher(
                broker.host, broker.port, STATE, ca_file=ca, client_cert=(client_crt, client_key)
            ) as watch:
                assert watch.wait_for(topic_is(STATE), 15), agent.log()
        with AgentProcess(args, tmp_path / "nocert.log") as nocert:
            time.sleep(2)
            assert nocert.alive() and "connected to" not in nocert.log()
            assert "Traceback" not in nocert.log()


def test_broker_none_runs_without_mqtt(tmp_path: Path) -> None:
    agent = AgentProcess(agent_args("none", "--interval", "1"), tmp_path / "a.log").start()
    try:
        assert wait_until(lambda: "n1: strain" in agent.log(), 10), agent.log()
        agent.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        assert agent.proc.wait(timeout=5) == 0  # type: ignore[union-attr]
    finally:
        agent.stop()
    assert "MQTT" not in agent.log()


def test_missing_ca_file_is_a_bad_flag(tmp_path: Path) -> None:
    result = run_agent(["--broker", "mqtts://127.0.0.1", "--ca-file", str(tmp_path / "nope.crt")])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"swarmgauge-agent: error: --ca-file: cannot read the file (No such file or directory)"
        f" (got '{tmp_path / 'nope.crt'}')"
    ]


DISCOVERY = "homeassistant/sensor/swarmgauge_n1/"


def discovery_configs(broker: Broker, tmp_path: Path, name: str) -> dict[str, dict]:  # type: ignore[type-arg]
    with AgentProcess(agent_args(broker.url, "--interval", "1"), tmp_path / f"{name}.log") as a:
        with Watcher(broker.host, broker.port, "homeassistant/#", name) as watch:
            assert watch.wait_for(lambda m: m.topic.startswith(DISCOVERY), 15), a.log()
            time.sleep(0.5)
            return {m.topic: m.json() for m in watch.messages if m.topic.endswith("/config")}


def test_home_assistant_discovery(broker: Broker, tmp_path: Path) -> None:
    first = discovery_configs(broker, tmp_path, "first")
    keys = {topic.split("/")[-2] for topic in first}
    assert {"strain", "cpu", "memory", "tasks"} <= keys
    for topic, config in first.items():
        key = topic.split("/")[-2]
        assert config["unique_id"] == f"swarmgauge_n1_{key}"
        assert config["state_topic"] == STATE
        assert config["availability_topic"] == AVAILABILITY
        assert config["device"]["identifiers"] == ["swarmgauge_n1"]
        assert config["device"]["name"] and config["device"]["manufacturer"] == "swarmgauge"
    second = discovery_configs(broker, tmp_path, "second")
    assert {t: c["unique_id"] for t, c in second.items()} == {
        t: c["unique_id"] for t, c in first.items()
    }  # stable across restarts


def test_discovery_announced_again_when_home_assistant_starts(
    broker: Broker, tmp_path: Path
) -> None:
    with AgentProcess(agent_args(broker.url, "--interval", "1"), tmp_path / "a.log") as agent:
        with Watcher(broker.host, broker.port, "homeassistant/#") as watch:
            assert watch.wait_for(lambda m: m.topic.startswith(DISCOVERY), 15), agent.log()
            seen = len(watch.messages)
            watch.publish("homeassistant/status", b"online")
            again = watch.wait_for(
                lambda m: m.topic.startswith(DISCOVERY) and not m.retain, 5, seen
            )
            assert again is not None, "discovery not re-announced"


def test_no_discovery_flag(broker: Broker, tmp_path: Path) -> None:
    args = agent_args(broker.url, "--interval", "1", "--no-discovery")
    with AgentProcess(args, tmp_path / "a.log") as agent:
        with Watcher(broker.host, broker.port, "#") as watch:
            assert watch.wait_for(topic_is(STATE), 15), agent.log()
            time.sleep(1)
            assert not [m for m in watch.messages if m.topic.startswith("homeassistant/")]
