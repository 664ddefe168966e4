"""--led-mode cluster and split: every Blinkt shows the whole Swarm, as the gauge's state
says, through a real broker from the real gauge; and "unknown" when it knows nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.display.apa102 import brightness_field
from agent.follow_gauge import GaugeFollower, cluster_leds
from agent.frames import (
    NUM_PIXELS,
    RED,
    UNKNOWN_CLUSTER,
    ClusterLeds,
    cluster_frame,
    split_frame,
    strain_frame,
)
from agent.shared.wire.payloads import parse_gauge_state
from tests.fake_hardware import make_sysfs_tree, sysfs_frames
from tests.helpers import AgentProcess
from tests.peers.broker import Broker
from tests.peers.net import wait_until
from tests.test_gauge import Publisher, cluster_payload, node_payload, start_gauge

BRIGHTNESS = 0.2


def colours(frame: Any) -> list[tuple[int, int, int]]:
    return [tuple(p[:3]) for p in frame]  # type: ignore[misc]


def test_the_cluster_bar_is_the_node_bar_of_the_whole_swarm() -> None:
    for strain in (0.0, 0.1, 0.5, 0.75, 1.0):
        assert cluster_frame(ClusterLeds(strain), BRIGHTNESS) == strain_frame(strain, BRIGHTNESS)
    assert cluster_frame(ClusterLeds(0.3, alarm=True), BRIGHTNESS) == ((*RED, BRIGHTNESS),) * 8


def test_unknown_is_not_idle() -> None:
    """Every other pixel dim white: a participant tells it from an idle Swarm (dark, or
    one green pixel) and from a Docker-less node (its last pixel blue)."""
    unknown = cluster_frame(UNKNOWN_CLUSTER, 0.1)  # the default brightness
    assert colours(unknown) == [(64, 64, 64), (0, 0, 0)] * 4
    # lit on the wire: an APA102's brightness has 5 bits (3 of 31 at 0.1)
    assert [brightness_field(p[3]) > 0 for p in unknown] == [True, False] * 4
    for strain in (0.0, 0.05, 0.125):
        assert unknown != strain_frame(strain, 0.1)
    # the gauge's alarm is shown even when its totals are unknown
    assert cluster_frame(ClusterLeds(None, alarm=True), BRIGHTNESS)[0][:3] == RED


def test_split_is_the_node_on_the_left_and_the_cluster_on_the_right() -> None:
    frame = split_frame(0.5, ClusterLeds(1.0), BRIGHTNESS)
    assert colours(frame[:4]) == [(0, 255, 0)] * 2 + [(0, 0, 0)] * 2
    assert colours(frame[4:]) == [(0, 255, 0)] * 2 + [(255, 140, 0), (255, 0, 0)]
    # Docker unreadable: the node's half says so on its last pixel, the cluster's is as is
    blind = split_frame(0.0, UNKNOWN_CLUSTER, BRIGHTNESS, docker_ok=False)
    assert colours(blind) == [(0, 0, 0)] * 3 + [(0, 0, 255)] + [(64, 64, 64), (0, 0, 0)] * 2
    assert len(frame) == NUM_PIXELS


def gauge_state(strain: float | None, alarm: bool = False, unknown: str | None = None) -> bytes:
    return json.dumps(
        {
            "schema": 1,
            "time": "2026-11-30T12:00:00Z",
            "strain": strain,
            "desired": None if unknown else 4,
            "running": None if unknown else 4,
            "totals_unknown": unknown,
            "alarm": alarm,
            "nodes": {"total": 1, "online": 1, "offline": 0, "stale": 0, "down": 0, "left": 0},
        }
    ).encode()


def test_the_follower_shows_the_gauge_only_while_it_is_online_and_knows() -> None:
    changes: list[ClusterLeds] = []
    follower = GaugeFollower("swarmgauge", lambda: changes.append(follower.leds))
    state, availability = "swarmgauge/gauge/state", "swarmgauge/gauge/availability"
    follower.take(state, gauge_state(0.6))
    assert follower.leds == UNKNOWN_CLUSTER and changes == []  # not yet said online
    follower.take(availability, b"online")
    assert changes == [ClusterLeds(0.6)]
    follower.take(state, gauge_state(0.6))  # the same picture: nothing to draw
    follower.take("swarmgauge/gauge/other", b"online")
    assert changes == [ClusterLeds(0.6)]
    follower.take(state, gauge_state(0.6, unknown="no leader"))
    follower.take(state, gauge_state(0.95, alarm=True))
    follower.take(state, b'{"schema": 1, "strain": "lots"}')  # refused: unknown, not kept
    follower.take(state, gauge_state(0.2))
    follower.take(availability, b"offline")
    assert changes[1:] == [
        UNKNOWN_CLUSTER, ClusterLeds(0.95, alarm=True), UNKNOWN_CLUSTER, ClusterLeds(0.2),
        UNKNOWN_CLUSTER,
    ]  # fmt: skip
    assert cluster_leds(parse_gauge_state(gauge_state(0.3)), online=True) == ClusterLeds(0.3)


def test_a_gauge_started_anew_or_a_lost_broker_is_unknown() -> None:
    """What the follower holds is the gauge's word only while it hears the gauge: a gauge
    that comes online live (restarted) has said nothing yet in this run, whatever its
    last run left retained; with the broker lost, nothing at all is known."""
    changes: list[ClusterLeds] = []
    follower = GaugeFollower("swarmgauge", lambda: changes.append(follower.leds))
    state, availability = "swarmgauge/gauge/state", "swarmgauge/gauge/availability"
    follower.take(state, gauge_state(0.3))  # retained, at subscribe: the gauge is up
    follower.take(availability, b"online")
    assert follower.leds == ClusterLeds(0.3)
    follower.take(availability, b"offline", retained=False)
    follower.take(availability, b"online", retained=False)  # started again
    assert follower.leds == UNKNOWN_CLUSTER
    follower.take(state, gauge_state(0.4), retained=False)  # its first word in this run
    assert follower.leds == ClusterLeds(0.4)
    follower.lost()
    assert changes[-1] == UNKNOWN_CLUSTER and follower.leds == UNKNOWN_CLUSTER
    follower.take(state, gauge_state(0.4))  # reconnected: the retained again
    follower.take(availability, b"online")
    assert follower.leds == ClusterLeds(0.4)


def last_colours(root: Path) -> list[tuple[int, int, int]] | None:
    try:
        frames = sysfs_frames(root, 512)
    except (AssertionError, OSError):
        return None  # read while the agent was writing one
    return colours(frames[-1]) if frames else None


@pytest.mark.parametrize("mode", ["cluster", "split"])
def test_every_blinkt_follows_the_whole_swarm(broker: Broker, tmp_path: Path, mode: str) -> None:
    """The real agent (fake GPIO) and the real gauge, through a real broker: amber, red
    and the alarm as the Swarm's tasks go missing; "unknown" once the gauge stops. The
    agent samples once a minute: what it draws meanwhile is the gauge's state."""
    root = make_sysfs_tree(tmp_path)
    nodes = Publisher(broker)
    nodes.send("swarmgauge/node/pi-1/state", node_payload("pi-1", 0.1, leader=True))
    nodes.send("swarmgauge/node/pi-1/availability", b"online")
    nodes.send("swarmgauge/node/pi-1/cluster", cluster_payload(4, 4))
    gauge = start_gauge(broker)
    args = ["--broker", broker.url, "--docker-host", "none", "--display", "sysfs",
            "--sysfs-gpio", str(root), "--led-mode", mode, "--interval", "60",
            "--brightness", str(BRIGHTNESS), "--node-name", "watcher",
            "--no-discovery"]  # fmt: skip
    agent = AgentProcess(args, tmp_path / "agent.log").start()

    def shows(cluster: ClusterLeds) -> bool:
        expected = colours(cluster_frame(cluster, BRIGHTNESS))
        if mode == "split":
            expected = colours(split_frame(0.0, cluster, BRIGHTNESS))[4:]
        got = last_colours(root)
        return got is not None and (got if mode == "cluster" else got[4:]) == expected

    try:
        assert wait_until(lambda: shows(ClusterLeds(0.1)), 15), agent.log()
        for running, cluster in [(2, ClusterLeds(0.5)), (1, ClusterLeds(0.75)),
                                 (0, ClusterLeds(1.0, alarm=True))]:  # fmt: skip
            # the leader's own state fresh too: a stale leader's totals are lost (alarm)
            nodes.send("swarmgauge/node/pi-1/state", node_payload("pi-1", 0.1, leader=True))
            nodes.send("swarmgauge/node/pi-1/cluster", cluster_payload(4, running))
            assert wait_until(lambda c=cluster: shows(c), 10), (cluster, last_colours(root))
        gauge.close()  # says offline itself
        assert wait_until(lambda: shows(UNKNOWN_CLUSTER), 10), last_colours(root)
        gauge = start_gauge(broker)
        nodes.send("swarmgauge/node/pi-1/state", node_payload("pi-1", 0.1, leader=True))
        nodes.send("swarmgauge/node/pi-1/cluster", cluster_payload(4, 2))
        assert wait_until(lambda: shows(ClusterLeds(0.5)), 15), last_colours(root)
        broker.stop()  # the agent's own link to the room is gone: it knows nothing
        assert wait_until(lambda: shows(UNKNOWN_CLUSTER), 10), last_colours(root)
        assert agent.alive() and "Traceback" not in agent.log(), agent.log()
    finally:
        agent.stop()
        gauge.close()
        nodes.close()
