"""Identify: "which one is pi-7?" The request's words, the flash's timing, and the real
agent flashing white on its (fake sysfs) GPIO when asked over a real broker."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

from agent.frames import FLASH_S, WHITE
from agent.identify import Identify
from agent.shared.wire.identify import DEFAULT_S, identify_topic, parse_identify
from agent.shared.wire.payloads import Rejected
from tests.fake_hardware import make_sysfs_tree, sysfs_frames
from tests.helpers import AgentProcess
from tests.mqtt_watch import Watcher
from tests.peers.broker import Broker
from tests.peers.net import wait_until


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
