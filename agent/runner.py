"""The long-running agent: sample on every interval and on container events, publish.

The main thread only waits for SIGTERM/SIGINT and then shuts down in order (stop
sampling, clear the LEDs, publish offline, disconnect), so a Docker call that hangs
in the sampling thread cannot hold up `docker stop`.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from agent.display import Display, DisplayError, open_display
from agent.display.terminal import TerminalDisplay
from agent.docker.events import Changes, DockerEvents, docker_event_stream
from agent.follow_gauge import GaugeFollower
from agent.frames import UNKNOWN_CLUSTER, Frame, identify_frame, strain_band
from agent.host import HostSampler
from agent.identify import Identify
from agent.sample import (
    Sample,
    make_swarm_sampler,
    resolve_node_name,
    sample_frame,
    sample_messages,
    take_sample,
)
from agent.settings.config import AgentConfig
from agent.shared.heartbeat import Heartbeat, stuck_after
from agent.shared.mqtt.client import client_id
from agent.shared.mqtt.publisher import Follow, Publisher
from agent.shared.signals import stop_event
from agent.shared.wire.discovery import discovery_messages
from agent.shared.wire.identify import identify_topic
from agent.shared.wire.topics import node_topics

log = logging.getLogger("agent")

# Container events come in bursts (a scale of 5 is 5 starts): one sample per burst.
MIN_SPACING_S = 0.2
FOLLOWING_MODES = ("cluster", "split")  # --led-mode values that show the gauge's state


def make_publisher(
    config: AgentConfig, node: str, follow: Follow | None = None
) -> Publisher | None:
    """follow: what the agent subscribes to (the gauge's state, for the LEDs), if any."""
    mqtt = config.mqtt
    if mqtt.broker is None:
        return None
    return Publisher(
        mqtt.broker,
        node_topics(mqtt.prefix, node),
        client_id=client_id("agent", node),
        keepalive_s=mqtt.keepalive_s,
        tls=mqtt.tls,
        reconnect_max_s=max(1, min(30, round(config.interval_s))),
        discovery_prefix=config.discovery_prefix if config.discovery else None,
        follow=follow,
        log=logging.getLogger("agent.mqtt"),
    )


class Agent:
    """Samples, publishes and shows one node until stopped."""

    def __init__(self, config: AgentConfig, display: Display) -> None:
        self.config = config
        self.display = display
        self.host = HostSampler()
        changes = Changes() if config.docker_host is not None else None
        # only the leader publishes the cluster state
        self.swarm = make_swarm_sampler(config, cluster="leader", changes=changes)
        self.wake = threading.Event()  # sample now, or draw again: the flags below say
        self.sample_soon = threading.Event()  # Docker's events say the tasks changed
        self.redraw = threading.Event()  # the gauge's state changes what the LEDs show
        self.stopping = threading.Event()
        self.gauge = (
            GaugeFollower(config.mqtt.prefix, self._draw_again)
            if config.led_mode in FOLLOWING_MODES
            else None
        )
        self.identify = Identify(self._identify_asked)
        self.sample: Sample | None = None  # the last, drawn again as the gauge's changes
        if self.gauge is not None and config.mqtt.broker is None:
            log.warning(
                "--led-mode %s shows the gauge's state, heard over MQTT: with --broker none"
                " the LEDs can only say unknown",
                config.led_mode,
            )
        self.heartbeat = Heartbeat(config.heartbeat_file, stuck_after(config.interval_s))
        self.node: str | None = None
        self.publisher: Publisher | None = None
        self.events = None
        if changes is not None and config.docker_host is not None:
            stream = docker_event_stream(
                lambda: self.swarm.api_version,
                config.docker_host,
                config.docker_timeout_s,
                config.resync_s,
            )
            self.events = DockerEvents(stream, changes, self._sample_soon)
        self._summary: tuple[object, ...] = ()

    def _sample_soon(self) -> None:
        self.sample_soon.set()
        self.wake.set()

    def _identify_asked(self) -> None:
        """The flash begins at once; a sample soon after says so in the state."""
        self.redraw.set()
        self._sample_soon()

    def _draw_again(self) -> None:
        self.redraw.set()
        self.wake.set()

    def loop(self) -> None:
        while not self.stopping.is_set():
            self.wake.clear()
            self.sample_soon.clear()
            self.redraw.clear()
            try:
                self.step(take_sample(self.host, self.swarm, self.config.capacity))
                self.heartbeat.beat()
            except Exception:  # a bug must not stop the gauge: say it and go on
                log.exception("sampling failed; trying again at the next interval")
            if self.events is not None:
                # after the first sample: it negotiated the API version, and the first
                # state is not held up by a second connection
                self.events.start()
            self._wait(time.monotonic() + self.config.interval_s)

    def _wait(self, due: float) -> None:
        """Until the next sample is due, Docker's events or identify ask for one (after
        MIN_SPACING_S: the rest of a burst), or the agent stops; drawing the LEDs again
        meanwhile whenever the gauge's state changes what they show, and at each half
        of identify's flash."""
        while (now := time.monotonic()) < due:
            flash = self.identify.next_change(now)
            if not self.wake.wait(min(due, flash) - now):
                if flash < due:
                    self.draw()  # the flash's next half
                    if not self.identify.active(time.monotonic()):
                        return  # it ended: a sample says so in the state
                continue
            self.wake.clear()
            if self.stopping.is_set():
                return  # the LEDs are being cleared: draw nothing more
            if self.redraw.is_set():
                self.redraw.clear()
                self.draw()
            if self.sample_soon.is_set():
                self.stopping.wait(MIN_SPACING_S)
                return

    def draw(self) -> None:
        """The last sample's frame, with what the gauge's state says now."""
        if self.sample is not None:
            try:
                self.display.show(self._frame(self.sample))
            except Exception:  # a bug must not stop the gauge: say it and go on
                log.exception("drawing failed; trying again at the next sample")

    def _frame(self, sample: Sample) -> Frame:
        now = time.monotonic()
        if self.identify.active(now):
            return identify_frame(self.identify.lit(now), self.config.brightness)
        cluster = UNKNOWN_CLUSTER if self.gauge is None else self.gauge.leds
        return sample_frame(sample, self.config, cluster)

    def _follow(self, node: str) -> Follow:
        """What the agent subscribes to: its identify topic, and the gauge's state where
        the LEDs show it."""
        mine = identify_topic(self.config.mqtt.prefix, node)
        gauge = self.gauge
        if gauge is None:
            return Follow((mine,), self.identify.on_message)

        def on_message(msg: Any) -> None:
            (self.identify if msg.topic == mine else gauge).on_message(msg)

        return Follow((mine, *gauge.filters), on_message, gauge.lost)

    def step(self, sample: Sample) -> None:
        if self.node is None:  # resolved once, from the first sample
            self.node = resolve_node_name(self.config.node_name, sample.swarm)
            self.publisher = make_publisher(self.config, self.node, self._follow(self.node))
            if self.publisher is not None:
                if self.config.discovery:
                    self.publisher.set_discovery(
                        discovery_messages(
                            node_topics(self.config.mqtt.prefix, self.node),
                            self.config.discovery_prefix,
                            with_temperature=sample.host.temperature_c is not None,
                        )
                    )
                self.publisher.start()
        self.sample = sample
        frame = self._frame(sample)
        self.display.show(frame)  # writes nothing when the frame is unchanged
        node_state, cluster_state = sample_messages(
            sample,
            self.node,
            self.config.capacity,
            self.config.interval_s,
            leds=frame,
            identify=self.identify.active(time.monotonic()),
        )
        if self.publisher is not None:
            # only the Swarm leader's agent speaks for the cluster
            self.publisher.publish_state(node_state, cluster_state if sample.swarm.leader else None)
        self._log_summary(sample)

    def _log_summary(self, sample: Sample) -> None:
        """A line when the picture changes in kind: tasks, role, leadership, or the strain
        changing colour band. Not when an idle node's strain jitters from 0.0 to 0.1."""
        swarm = sample.swarm
        band = strain_band(sample.strain.value, self.config.thresholds)
        key = (band, swarm.tasks_running, swarm.role, swarm.leader)
        if key != self._summary:
            leads = " (leader)" if swarm.leader else ""
            tasks = "unknown" if swarm.tasks_running is None else swarm.tasks_running
            log.info(
                "%s: strain %.2f (%s), %s tasks, %s%s",
                self.node, sample.strain.value, band, tasks, swarm.role, leads,
            )  # fmt: skip
            self._summary = key

    def shutdown(self) -> None:
        """Stop sampling, clear the LEDs, say offline, disconnect. Each step is bounded."""
        self.stopping.set()
        self.wake.set()
        if self.events is not None:
            self.events.close()
        self.display.close()  # clears; a step still running can no longer draw
        if self.publisher is not None:
            self.publisher.close(timeout_s=1.0)
        self.swarm.close()


def open_agent_display(config: AgentConfig, stream: TextIO | None = None) -> Display | None:
    """The display the settings choose; None after one line on stderr if it cannot run."""
    try:
        return open_display(
            config.display,
            gpiomem=Path(config.gpiomem),
            sysfs_root=Path(config.sysfs_gpio),
            stream=stream,
        )
    except DisplayError as exc:
        print(f"swarmgauge-agent: error: --display {config.display}: {exc}", file=sys.stderr)
        return None


def run(config: AgentConfig) -> int:
    display = open_agent_display(config)
    if display is None:
        return 2
    if isinstance(display, TerminalDisplay) and display.tty:
        display.keep_below_logs(logging.getLogger())
    stop = stop_event(log)
    agent = Agent(config, display)
    try:
        worker = threading.Thread(target=agent.loop, name="sampler", daemon=True)
        worker.start()
        stop.wait()
    finally:  # SIGTERM, SIGINT, or a fatal error: the LEDs go dark either way
        agent.shutdown()
    log.info("stopped")
    return 0
