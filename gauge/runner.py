"""The gauge process: MQTT in, cluster view in the middle, needle, LEDs and web out."""

from __future__ import annotations

import logging
import queue
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from agent.display import open_display
from agent.shared.errors import ConfigError
from agent.shared.heartbeat import Heartbeat
from agent.shared.mqtt.client import client_id
from agent.shared.mqtt.publisher import Follow, Publisher
from agent.shared.signals import stop_event
from agent.shared.wire.payloads import Rejected
from agent.shared.wire.topics import gauge_topics, node_filters
from gauge.announce import Announcer
from gauge.config import GaugeConfig
from gauge.discovery import cluster_discovery
from gauge.metrics import MessageCounts, metrics_page
from gauge.outputs import TICK_S, Needle, Outputs
from gauge.summary import with_alarm
from gauge.view import ClusterView
from gauge.web import Latest, WebView

log = logging.getLogger("gauge")

MIN_REFRESH_S = 0.2  # under a flood of messages, recompute the aggregate 5 times a second
STALE_CHECK_S = 1.0
# A broker back from a restart is followed again within 2 s: the gauge is one client,
# and while it is cut off its picture goes stale.
RECONNECT_MAX_S = 2


class DropLog:
    """Says that bad messages were dropped: at once, then at most every 30 s, with a count."""

    def __init__(self, every_s: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.every_s, self.clock = every_s, clock
        self._since_log = 0
        self._logged_at: float | None = None

    def note(self, topic: str, reason: str) -> None:
        self._since_log += 1
        now = self.clock()
        if self._logged_at is None or now - self._logged_at >= self.every_s:
            log.warning(
                "dropped %d bad message(s); latest on %s: %s", self._since_log, topic[:120], reason
            )
            self._logged_at, self._since_log = now, 0


class Gauge:
    """The cluster view kept from MQTT, and what shows it."""

    def __init__(self, config: GaugeConfig, outputs: Outputs, latest: Latest) -> None:
        self.config = config
        self.outputs = outputs
        self.latest = latest
        self.announcer: Announcer | None = None  # where the gauge's own state goes
        self.counts = MessageCounts()
        self.view = ClusterView(
            config.mqtt.prefix,
            config.stale_after_s,
            clock_skew_s=config.clock_skew_s,
            max_nodes=config.max_nodes,
            forget_after_s=config.forget_after_s,
        )
        self.inbox: queue.SimpleQueue[tuple[str, bytes, bool]] = queue.SimpleQueue()
        self.drops = DropLog()
        self.stopping = threading.Event()
        self.heartbeat = Heartbeat(config.heartbeat_file)
        self.snapshot: dict[str, Any] | None = None
        # whether the gauge's own MQTT connection is up; None: it has no broker
        self.broker_connected: Callable[[], bool] | None = None

    # paho's thread: thin, never raises
    def on_message(self, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def take(self, topic: str, payload: bytes, retained: bool = False) -> bool:
        try:
            self.view.apply(topic, payload, retained)
        except Rejected as why:
            self.drops.note(topic, str(why))
            self.counts.rejected[why.reason] += 1
            return False
        except Exception as exc:  # a bug: one message lost, never the loop
            self.drops.note(topic, f"unexpected {type(exc).__name__}: {exc}"[:200])
            self.counts.rejected["bug"] += 1
            return False
        self.counts.accepted += 1
        return True

    def refresh(self) -> None:
        c = self.config
        snapshot = with_alarm(
            self.view.snapshot(), c.alarm_at, c.thresholds.amber_at, c.thresholds.red_at
        )
        # the page says so when the gauge itself hears nothing (its nodes' silence is not
        # theirs then)
        snapshot["broker_connected"] = (
            None if self.broker_connected is None else self.broker_connected()
        )
        changed = snapshot != self.snapshot
        if changed:
            self.snapshot = snapshot
            self.latest.publish(snapshot)  # first: a failing output must not hide it
        if self.announcer is not None:
            self.announcer.offer(snapshot, changed)
        if changed:
            self.outputs.show(snapshot)

    def loop(self) -> None:
        while not self.stopping.is_set():
            try:
                self._run()
            except Exception:  # a bug must not freeze the gauge: say it, start over
                log.exception("gauge loop failed; going on")
                self.stopping.wait(1.0)

    def _run(self) -> None:
        pending = False
        last_refresh = 0.0
        next_stale_check = 0.0
        while not self.stopping.is_set():
            now = time.monotonic()
            waits = [next_stale_check - now]
            if pending:
                waits.append(last_refresh + MIN_REFRESH_S - now)
            if self.outputs.moving:
                waits.append(TICK_S)
            try:
                item: tuple[str, bytes, bool] | None = self.inbox.get(timeout=max(0.0, min(waits)))
            except queue.Empty:
                item = None
            while item is not None:  # take everything that is waiting
                pending |= self.take(*item)
                try:
                    item = self.inbox.get_nowait()
                except queue.Empty:
                    item = None
            now = time.monotonic()
            if (pending and now - last_refresh >= MIN_REFRESH_S) or now >= next_stale_check:
                self.refresh()
                pending, last_refresh = False, now
                if now >= next_stale_check:
                    self.heartbeat.beat()
                next_stale_check = now + STALE_CHECK_S
            self.outputs.tick()


def make_outputs(config: GaugeConfig) -> Outputs:
    needle = None
    if config.needle_pin is not None:
        needle = Needle(config.needle_pin, config.min_angle, config.max_angle)
    blinkt = open_display(config.display) if config.display != "none" else None
    return Outputs(
        needle=needle,
        bar_pins=config.bar_pins,
        alarm_pin=config.alarm_pin,
        alarm_at=config.alarm_at,
        blinkt=blinkt,
        brightness=config.brightness,
        thresholds=config.thresholds,
    )


def make_mqtt(config: GaugeConfig, gauge: Gauge) -> Publisher | None:
    """One connection: it follows the agents' topics and publishes the gauge's own
    state, availability (last will: offline) and Home Assistant's cluster device."""
    mqtt_settings = config.mqtt
    if mqtt_settings.broker is None:
        return None
    prefix = mqtt_settings.prefix
    topics = gauge_topics(prefix)

    publisher = Publisher(
        mqtt_settings.broker,
        topics,
        client_id=client_id("gauge", socket.gethostname()),
        keepalive_s=mqtt_settings.keepalive_s,
        tls=mqtt_settings.tls,
        reconnect_max_s=RECONNECT_MAX_S,
        discovery_prefix=config.discovery_prefix if config.discovery else None,
        follow=Follow(
            node_filters(prefix),
            gauge.on_message,
        ),
        hint=None,
        log=logging.getLogger("gauge.mqtt"),
    )
    if config.discovery:
        publisher.set_discovery(cluster_discovery(topics, config.discovery_prefix))
    return publisher


class GaugeApp:
    """The whole gauge, wired: start() it, close() it. Raises on outputs or a port it
    cannot have (run() turns that into one line and exit status 2)."""

    def __init__(self, config: GaugeConfig) -> None:
        self.outputs = make_outputs(config)
        self.latest = Latest()
        self.gauge = Gauge(config, self.outputs, self.latest)
        self.web: WebView | None = None
        if config.http is not None:
            metrics = None
            if config.metrics:
                metrics = metrics_page(
                    lambda: self.latest.snapshot, self.gauge.counts, config.alarm_at
                )
            try:
                self.web = WebView(*config.http, self.latest, metrics)
            except OSError as exc:
                self.outputs.close()
                where = f"{config.http[0]}:{config.http[1]}"
                raise ConfigError(f"--http {where}: {exc.strerror or exc}") from None
        self.mqtt = make_mqtt(config, self.gauge)
        if self.mqtt is not None:
            mqtt_out = self.mqtt
            self.gauge.broker_connected = lambda: mqtt_out.connected
            self.gauge.announcer = Announcer(
                lambda state: mqtt_out.publish_state(state, None), config.alarm_at
            )
        self.worker = threading.Thread(target=self.gauge.loop, name="gauge", daemon=True)

    def start(self) -> None:
        if self.web is not None:
            self.web.start()
        self.worker.start()
        if self.mqtt is not None:
            self.mqtt.start()

    def close(self) -> None:
        """Stop following, needle let go and LEDs off, web view closed."""
        self.gauge.stopping.set()
        if self.mqtt is not None:
            self.mqtt.close()  # says offline first
        self.worker.join(timeout=1.0)
        self.outputs.close()
        if self.web is not None:
            self.web.close()


def run(config: GaugeConfig) -> int:
    try:
        app = GaugeApp(config)
    except ConfigError as exc:
        print(f"swarmgauge-gauge: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # gpiozero's own errors (no PWM on a pin, a pin in use, …)
        print(f"swarmgauge-gauge: error: outputs: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    stop = stop_event(log)
    app.start()
    try:
        stop.wait()
    finally:
        app.close()
    return 0
