"""The long-running agent: sample on every interval and on container events, publish.

The main thread only waits for SIGTERM/SIGINT and then shuts down in order (stop
sampling, clear the LEDs, publish offline, disconnect), so a Docker call that hangs
in the sampling thread cannot hold up `docker stop`.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import TextIO

from agent.display import Display, DisplayError, open_display
from agent.display.terminal import TerminalDisplay
from agent.docker.events import Changes, DockerEvents, docker_event_stream
from agent.frames import strain_band
from agent.host import HostSampler
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
from agent.shared.mqtt.publisher import Publisher
from agent.shared.signals import stop_event
from agent.shared.wire.discovery import discovery_messages
from agent.shared.wire.topics import node_topics

log = logging.getLogger("agent")

# Container events come in bursts (a scale of 5 is 5 starts): one sample per burst.
MIN_SPACING_S = 0.2


def make_publisher(config: AgentConfig, node: str) -> Publisher | None:
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
        self.wake = threading.Event()
        self.stopping = threading.Event()
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
            self.events = DockerEvents(stream, changes, self.wake.set)
        self._summary: tuple[object, ...] = ()

    def loop(self) -> None:
        while not self.stopping.is_set():
            self.wake.clear()
            try:
                self.step(take_sample(self.host, self.swarm, self.config.capacity))
                self.heartbeat.beat()
            except Exception:  # a bug must not stop the gauge: say it and go on
                log.exception("sampling failed; trying again at the next interval")
            if self.events is not None:
                # after the first sample: it negotiated the API version, and the first
                # state is not held up by a second connection
                self.events.start()
            if self.wake.wait(self.config.interval_s):
                self.stopping.wait(MIN_SPACING_S)

    def step(self, sample: Sample) -> None:
        if self.node is None:  # resolved once, from the first sample
            self.node = resolve_node_name(self.config.node_name, sample.swarm)
            self.publisher = make_publisher(self.config, self.node)
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
        frame = sample_frame(sample, self.config)
        self.display.show(frame)  # writes nothing when the frame is unchanged
        node_state, cluster_state = sample_messages(
            sample, self.node, self.config.capacity, self.config.interval_s, leds=frame
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
