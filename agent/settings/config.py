"""The agent's settings: flags, SWARMGAUGE_* variables, defaults for a workshop."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agent.docker.address import check_docker_host
from agent.frames import Thresholds
from agent.shared.errors import ConfigError
from agent.shared.heartbeat import DEFAULT_INTERVAL_S
from agent.shared.settings.leds import led_options, thresholds_from
from agent.shared.settings.mqtt import (
    MqttSettings,
    discovery_options,
    mqtt_options,
    mqtt_settings_from,
)
from agent.shared.settings.options import (
    Option,
    number_between,
    one_of,
    parse_options,
    switch,
    text_value,
    whole_between,
)
from agent.shared.settings.start import HEARTBEAT_OPTION, LOG_LEVEL_OPTION
from agent.strain import DEFAULT_TASK_CAPACITY

LED_MODES = ("strain", "tasks", "cluster", "split")


def docker_host(text: str) -> str:
    value = text.strip()
    return value if value.lower() == "none" else check_docker_host(value)


STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
DEFAULT_STACK = "swarmgauge"  # what the README's `docker stack deploy … swarmgauge` names it


def stack_name(text: str) -> str:
    """A Docker stack's name (as `docker stack deploy` takes it), or none."""
    name = text.strip()
    if name.lower() == "none":
        return "none"
    if not STACK_NAME.fullmatch(name):
        raise ValueError("must be a stack's name (1 to 63 of A-Z a-z 0-9 _ . -), or none")
    return name


@dataclass(frozen=True)
class AgentConfig:
    once: bool
    interval_s: float
    capacity: int
    brightness: float
    display: str
    mqtt: MqttSettings
    node_name: str | None
    docker_host: str | None  # None: Docker not read
    docker_timeout_s: float
    log_level: str
    led_mode: str = "strain"
    thresholds: Thresholds = Thresholds()
    sysfs_gpio: str = "/sys/class/gpio"
    gpiomem: str = "/dev/gpiomem"
    discovery: bool = True
    discovery_prefix: str = "homeassistant"
    heartbeat_file: str | None = None
    stack: str | None = DEFAULT_STACK  # the gauge's own stack: its tasks are not strain
    resync_s: float = 60.0  # Docker listed again at least this often, events or not


def agent_options(environ: Mapping[str, str]) -> list[Option]:
    docker_default = environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    return [
        Option(
            "--once", switch, False, "sample once, print the snapshot as JSON, exit", switch=True
        ),
        Option(
            "--interval",
            number_between(0.2, 3600),
            DEFAULT_INTERVAL_S,
            "seconds between samples",
            "SECONDS",
        ),
        Option(
            "--capacity",
            whole_between(1, 1000),
            DEFAULT_TASK_CAPACITY,
            "workload tasks that make a node's task strain 1",
            "TASKS",
        ),
        Option(
            "--stack",
            stack_name,
            DEFAULT_STACK,
            "the gauge's own stack: its tasks are counted, not strain (none: every task is)",
            "NAME",
        ),
        *led_options("auto", "the node's 8 LEDs"),
        Option(
            "--led-mode",
            one_of(*LED_MODES),
            "strain",
            "LEDs show: strain|tasks (the node's), cluster (the gauge's), split (both)",
            "MODE",
        ),
        Option("--sysfs-gpio", text_value, "/sys/class/gpio", "sysfs GPIO folder", "PATH"),
        Option("--gpiomem", text_value, "/dev/gpiomem", "GPIO memory device for blinkt", "PATH"),
        *mqtt_options(),
        *discovery_options(),
        Option(
            "--node-name",
            text_value,
            None,
            "this node's name (default: Docker's host name)",
            "NAME",
        ),
        Option(
            "--docker-host",
            docker_host,
            docker_default,
            "Docker API: unix:///path or tcp://host:port (a socket proxy), or none",
            "URL",
        ),
        Option(
            "--docker-timeout",
            number_between(0.1, 300),
            3.0,
            "seconds to wait for any Docker call",
            "SECONDS",
        ),
        Option(
            "--resync",
            number_between(5, 3600),
            60.0,
            "seconds between full lists of Docker; events say what changed between",
            "SECONDS",
        ),
        LOG_LEVEL_OPTION,
        HEARTBEAT_OPTION,
    ]


def load_agent_config(argv: Sequence[str] | None, environ: Mapping[str, str]) -> AgentConfig:
    v = parse_options(
        "swarmgauge-agent",
        "Reads this Swarm node's load and tasks, publishes them over MQTT, shows them on LEDs.",
        agent_options(environ),
        argv,
        environ,
    )
    thresholds = thresholds_from(v)
    docker_host = None if v["docker_host"].lower() == "none" else v["docker_host"]
    if docker_host is not None:
        try:
            check_docker_host(docker_host)  # the default from DOCKER_HOST is not checked above
        except ValueError as exc:
            raise ConfigError(f"DOCKER_HOST: {exc} (got {docker_host!r})") from None
    return AgentConfig(
        once=v["once"],
        interval_s=v["interval"],
        capacity=v["capacity"],
        brightness=v["brightness"],
        display=v["display"],
        mqtt=mqtt_settings_from(v),
        node_name=v["node_name"],
        docker_host=docker_host,
        docker_timeout_s=v["docker_timeout"],
        log_level=v["log_level"],
        led_mode=v["led_mode"],
        thresholds=thresholds,
        sysfs_gpio=v["sysfs_gpio"],
        gpiomem=v["gpiomem"],
        discovery=not v["no_discovery"],
        discovery_prefix=v["discovery_prefix"],
        heartbeat_file=v["heartbeat_file"],
        stack=None if v["stack"] == "none" else v["stack"],
        resync_s=v["resync"],
    )
