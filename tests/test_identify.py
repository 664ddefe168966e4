"""Identify: "which one is pi-7?" The request's words, the flash's timing, and the real
agent flashing white on its (fake sysfs) GPIO when asked over a real broker."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest

import agent.identify_cli as identify_cli
from agent.frames import FLASH_S, WHITE
from agent.identify import Identify
from agent.shared.wire.identify import DEFAULT_S, identify_topic, parse_identify
from agent.shared.wire.payloads import Rejected
from tests.fake_hardware import make_sysfs_tree, sysfs_frames
from tests.helpers import AgentProcess, clean_env
from tests.mqtt_watch import Watcher
from tests.peers.broker import Broker
from tests.peers.net import wait_until
from tests.test_gauge import Publisher, api_until, node_payload, start_gauge


@pytest.mark.parametrize(
    ("payload", "seconds"), [(b"", DEFAULT_S), (b"1", 1), (b"60", 60), (b" 30\n", 30)]
)
def test_the_seconds_asked(payload: bytes, seconds: int) -> None:
    assert parse_identify(payload) == seconds


@pytest.mark.parametrize("payload", [b"0", b"61", b"-5", b"1e3", b"10.5", b"abc", b"\xff", b"999"])
def test_anything_else_is_refused_in_words(payload: bytes) -> None:
    with pytest.raises(Rejected, match="identify wants seconds from 1 to 60"):
        parse_identify(payload)


def test_the_flash_turns_every_half_second_and_ends_on_time() -> None:
    now = [100.0]
    asked: list[float] = []
    identify = Identify(lambda: asked.append(now[0]), clock=lambda: now[0])
    assert not identify.active(now[0]) and identify.next_change(now[0]) == math.inf
    identify.ask(b"2", retained=True)  # the broker's old copy: not a request now
    identify.ask(b"soon")
    assert asked == []
    identify.ask(b"2")
    assert asked == [100.0]
    seen = [(t, identify.lit(t), identify.next_change(t)) for t in (100.0, 100.3, 100.5, 101.9)]
    assert seen == [
        (100.0, True, 100.0 + FLASH_S), (100.3, True, 100.5), (100.5, False, 101.0),
        (101.9, False, 102.0),
    ]  # fmt: skip
    assert not identify.active(102.0) and identify.next_change(102.0) == math.inf
    # asked again while it flashes: longer if need be, in the same rhythm, no new start
    now[0] = 103.0
    identify.ask(b"2")
    now[0] = 103.2
    identify.ask(b"5")
    identify.ask(b"1")
    assert asked == [100.0, 103.0]
    assert identify.lit(103.6) is False and identify.active(108.1)
    assert not identify.active(108.2)


def white_frames(root: Path) -> list[bool]:
    """Each frame written so far: all eight white (True) or not."""
    try:
        frames = sysfs_frames(root, 512)
    except (AssertionError, OSError):
        return []  # read while the agent was writing one
    return [all(tuple(p[:3]) == WHITE for p in f) for f in frames]


def test_the_agent_flashes_white_when_asked_and_says_so(broker: Broker, tmp_path: Path) -> None:
    root = make_sysfs_tree(tmp_path)
    args = ["--broker", broker.url, "--docker-host", "none", "--display", "sysfs",
            "--sysfs-gpio", str(root), "--interval", "60", "--node-name", "pi-7",
            "--no-discovery"]  # fmt: skip
    with (
        AgentProcess(args, tmp_path / "agent.log") as agent,
        Watcher(broker.host, broker.port, "swarmgauge/node/pi-7/state", "w") as watch,
    ):
        assert watch.wait_for(lambda m: m.json()["identify"] is False, 15), agent.log()
        assert wait_until(lambda: white_frames(root), 5)
        before = len(white_frames(root))
        seen = len(watch.messages)
        asked = time.monotonic()
        watch.publish(identify_topic("swarmgauge", "pi-7"), b"3")
        assert wait_until(lambda: any(white_frames(root)[before:]), 1.0), agent.log()
        began = time.monotonic() - asked
        said = watch.wait_for(lambda m: m.json()["identify"] is True, 5, seen)
        assert said is not None, agent.log()
        assert json.loads(said.payload)["leds"][0][:3] in ([255, 255, 255], [0, 0, 0])
        ended = watch.wait_for(lambda m: m.json()["identify"] is False, 10, seen)
        assert ended is not None
        took = time.monotonic() - asked
        flashes = white_frames(root)[before:]
        print(f"flash began {began * 1000:.0f} ms after the request; over after {took:.1f} s;"
              f" {flashes.count(True)} white frames")  # fmt: skip
        assert 3.0 <= took < 5.0, took
        assert flashes.count(True) >= 3 and not flashes[-1]  # turned, and dark again
        watch.publish(identify_topic("swarmgauge", "pi-7"), b"600")  # refused, one line
        assert wait_until(lambda: "identify refused" in agent.log(), 5)
        assert agent.alive()


IDENTIFY = [sys.executable, "-m", "agent.identify_cli"]


def test_swarmgauge_identify_asks_and_waits_for_the_node_to_say_so(
    broker: Broker, tmp_path: Path
) -> None:
    args = ["--broker", broker.url, "--docker-host", "none", "--display", "none",
            "--interval", "60", "--node-name", "pi-7", "--no-discovery"]  # fmt: skip
    with (
        AgentProcess(args, tmp_path / "agent.log") as agent,
        Watcher(broker.host, broker.port, "swarmgauge/node/pi-7/state", "w") as watch,
    ):
        assert watch.wait_for(lambda m: m.json()["identify"] is False, 15), agent.log()
        done = subprocess.run(
            [*IDENTIFY, "pi-7", "--broker", broker.url, "2"],  # the seconds after a flag
            capture_output=True,
            text=True,
            timeout=30,
            env=clean_env(),
        )
        assert (done.returncode, done.stdout, done.stderr) == (
            0, "pi-7 is flashing white for 2 s\n", ""
        ), agent.log()  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        ([], "the following arguments are required: NODE"),
        (["pi-7", "90"], "seconds: identify wants seconds from 1 to 60"),
        (["pi-7", "--broker", "none"], "--broker none: there is nothing to ask over"),
        (["pi-7", "--interval", "1"], "unrecognized arguments: --interval 1"),
    ],
)
def test_swarmgauge_identify_says_what_is_wrong_in_one_line(argv: list[str], said: str) -> None:
    done = subprocess.run([*IDENTIFY, *argv], capture_output=True, text=True, timeout=30,
                          env=clean_env())  # fmt: skip
    assert done.returncode == 2 and said in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_a_node_that_does_not_answer_is_said_so(
    broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(identify_cli, "ANSWER_S", 1.0)
    settings = identify_cli.load_identify(["pi-9", "--broker", broker.url], {})
    why = identify_cli.ask(settings)
    assert why is not None and why.startswith("pi-9 did not say it flashes within 1 s")
    nobody = identify_cli.load_identify(["pi-9", "--broker", "mqtt://127.0.0.1:9"], {})
    assert identify_cli.ask(nobody) == "no broker listening at 127.0.0.1:9"


def test_the_gauge_marks_the_node_that_flashes(broker: Broker) -> None:
    nodes = Publisher(broker)
    state = json.loads(node_payload("pi-7", 0.2))
    nodes.send("swarmgauge/node/pi-7/state", json.dumps(state | {"identify": True}).encode())
    nodes.send("swarmgauge/node/pi-8/state", node_payload("pi-8", 0.2))
    app = start_gauge(broker)
    try:
        cluster = api_until(app, lambda c: len(c["nodes"]) == 2)
        assert {n["name"]: n["identify"] for n in cluster["nodes"]} == {
            "pi-7": True, "pi-8": False
        }  # fmt: skip
        # a state that says anything but true or false is refused, as a whole
        nodes.send("swarmgauge/node/pi-8/state", json.dumps(state | {"node": "pi-8",
                   "identify": "yes"}).encode())  # fmt: skip
        assert wait_until(lambda: app.gauge.counts.rejected["invalid"] >= 1, 5)
    finally:
        app.close()
        nodes.close()
