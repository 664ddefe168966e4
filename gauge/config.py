"""The gauge's settings: flags, SWARMGAUGE_* variables, defaults for a workshop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agent.frames import Thresholds
from agent.shared.errors import ConfigError
from agent.shared.settings.leds import led_options, thresholds_from
from agent.shared.settings.mqtt import (
    MqttSettings,
    discovery_options,
    mqtt_options,
    mqtt_settings_from,
)
from agent.shared.settings.options import (
    Option,
    fraction,
    number_between,
    parse_options,
    switch,
    whole_between,
)
from agent.shared.settings.start import HEARTBEAT_OPTION, LOG_LEVEL_OPTION
from gauge.view import DEFAULT_CLOCK_SKEW_S, DEFAULT_FORGET_AFTER_S, DEFAULT_MAX_NODES


def pin(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError("must be a GPIO number (BCM)") from None
    if not 0 <= value <= 53:
        raise ValueError("must be a GPIO number from 0 to 53 (BCM)")
    return value


def pins(text: str) -> tuple[int, ...]:
    values = tuple(pin(p) for p in text.replace(",", " ").split())
    if not values:
        raise ValueError("must list GPIO numbers, like 5,6,13,19,26")
    return values


def angle(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("must be an angle in degrees") from None
    if not -360 <= value <= 360:
        raise ValueError("must be from -360 to 360 degrees")
    return value


def http_address(text: str) -> tuple[str, int] | None:
    value = text.strip()
    if value.lower() == "none":
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError("must be HOST:PORT (like 127.0.0.1:8080) or none")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class GaugeConfig:
    mqtt: MqttSettings
    stale_after_s: float
    http: tuple[str, int] | None
    needle_pin: int | None
    min_angle: float
    max_angle: float
    bar_pins: tuple[int, ...]
    alarm_pin: int | None
    alarm_at: float
    display: str
    brightness: float
    thresholds: Thresholds
    log_level: str
    heartbeat_file: str | None = None
    clock_skew_s: float = DEFAULT_CLOCK_SKEW_S
    max_nodes: int = DEFAULT_MAX_NODES
    forget_after_s: float = DEFAULT_FORGET_AFTER_S
    metrics: bool = True
    discovery: bool = True
    discovery_prefix: str = "homeassistant"


def gauge_options() -> list[Option]:
    return [
        *mqtt_options(),
        Option(
            "--stale-after",
            number_between(1, 86400),
            15.0,
            "seconds after which a node's state is stale",
            "SECONDS",
        ),
        Option(
            "--clock-skew",
            number_between(0, 600),
            DEFAULT_CLOCK_SKEW_S,
            "how far the nodes' clocks may differ from the gauge's (retained states)",
            "SECONDS",
        ),
        Option(
            "--max-nodes",
            whole_between(1, 100_000),
            DEFAULT_MAX_NODES,
            "nodes kept at most (a new name is refused while all are live)",
            "COUNT",
        ),
        Option(
            "--forget-after",
            number_between(60, 7 * 24 * 3600),
            DEFAULT_FORGET_AFTER_S,
            "seconds of silence after which a node is forgotten",
            "SECONDS",
        ),
        Option("--http", http_address, ("127.0.0.1", 8080), "web view HOST:PORT, or none", "ADDR"),
        Option("--no-metrics", switch, False, "no /metrics for Prometheus", switch=True),
        *discovery_options(),
        Option("--needle-pin", pin, None, "servo signal pin (BCM)", "GPIO"),
        Option("--min-angle", angle, -90.0, "needle angle at strain 0", "DEGREES"),
        Option("--max-angle", angle, 90.0, "needle angle at strain 1", "DEGREES"),
        Option("--bar-pins", pins, (), "LED bar graph pins, lowest first", "GPIO,…"),
        Option("--alarm-pin", pin, None, "alarm LED pin (BCM)", "GPIO"),
        Option("--alarm-at", fraction, 0.9, "cluster strain that lights the alarm", "0..1"),
        *led_options("none", "a Blinkt, one pixel per node"),
        LOG_LEVEL_OPTION,
        HEARTBEAT_OPTION,
    ]


def load_gauge_config(argv: Sequence[str] | None, environ: Mapping[str, str]) -> GaugeConfig:
    v = parse_options(
        "swarmgauge-gauge",
        "Shows the whole Swarm's strain: a needle, LEDs and a live web page.",
        gauge_options(),
        argv,
        environ,
    )
    thresholds = thresholds_from(v)
    if v["min_angle"] == v["max_angle"]:
        raise ConfigError("--min-angle and --max-angle must differ")
    return GaugeConfig(
        mqtt=mqtt_settings_from(v),
        stale_after_s=v["stale_after"],
        clock_skew_s=v["clock_skew"],
        max_nodes=v["max_nodes"],
        forget_after_s=v["forget_after"],
        http=v["http"],
        needle_pin=v["needle_pin"],
        min_angle=v["min_angle"],
        max_angle=v["max_angle"],
        bar_pins=v["bar_pins"],
        alarm_pin=v["alarm_pin"],
        alarm_at=v["alarm_at"],
        display=v["display"],
        brightness=v["brightness"],
        thresholds=thresholds,
        log_level=v["log_level"],
        heartbeat_file=v["heartbeat_file"],
        metrics=not v["no_metrics"],
        discovery=not v["no_discovery"],
        discovery_prefix=v["discovery_prefix"],
    )
