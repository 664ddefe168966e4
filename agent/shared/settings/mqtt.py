"""The broker connection and Home Assistant discovery flags, the same for the agent
and the gauge: --broker, --prefix, --keepalive, TLS files, the password file."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from agent.shared.errors import ConfigError
from agent.shared.settings.broker_url import BrokerUrl, TlsFiles, parse_broker_url
from agent.shared.settings.options import Option, readable_file, switch, whole_between

TOPIC_PREFIX = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")


def topic_prefix(text: str) -> str:
    prefix = text.strip().strip("/")
    if len(prefix) > 64 or not TOPIC_PREFIX.fullmatch(prefix):
        raise ValueError("must be 1 to 64 of A-Z a-z 0-9 _ - in /-separated levels")
    return prefix


MAX_PASSWORD_FILE = 4096


def read_password_file(path: str) -> str:
    """The password in a file (Docker secrets), without its line end.

    ConfigError, in one line that never shows the content, for a file over 4 KiB
    (/dev/zero), not UTF-8, empty, or with more than one line.
    """
    where = f"--broker-password-file {path}"
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_PASSWORD_FILE + 1)
    except OSError as exc:
        raise ConfigError(f"{where}: {exc.strerror or exc}") from None
    if len(data) > MAX_PASSWORD_FILE:
        raise ConfigError(f"{where}: over {MAX_PASSWORD_FILE} bytes: not a password file")
    try:
        text = data.decode("utf-8").removesuffix("\n").removesuffix("\r")
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: not UTF-8 text") from None
    if not text:
        raise ConfigError(f"{where}: empty")
    if any(c in text for c in "\r\n\0"):
        raise ConfigError(f"{where}: more than one line")
    return text


@dataclass(frozen=True)
class MqttSettings:
    """The broker connection, the same for the agent and the gauge."""

    broker: BrokerUrl | None  # None: MQTT off
    prefix: str
    keepalive_s: int
    tls: TlsFiles


def mqtt_settings_from(values: Mapping[str, Any]) -> MqttSettings:
    """The broker settings; the password file is read (and checked) here, once."""
    broker: BrokerUrl | None = values["broker"]
    password_file: str | None = values["broker_password_file"]
    if password_file is not None:
        if broker is None or not broker.username:
            raise ConfigError(
                "--broker-password-file needs a user in --broker (mqtt://USER@host:port)"
            )
        broker = replace(broker, password=read_password_file(password_file))
    return MqttSettings(
        broker=broker,
        prefix=values["prefix"],
        keepalive_s=values["keepalive"],
        tls=TlsFiles(values["ca_file"], values["cert_file"], values["key_file"]),
    )


def mqtt_options() -> list[Option]:
    """The broker connection, the same for the agent and the gauge."""
    return [
        Option(
            "--broker",
            parse_broker_url,
            parse_broker_url("mqtt://localhost:1883"),
            "mqtt://[user[:password]@]host[:port], mqtts://… for TLS, or none",
            "URL",
            secret=True,
        ),
        Option("--prefix", topic_prefix, "swarmgauge", "MQTT topic prefix", "PREFIX"),
        Option("--keepalive", whole_between(5, 3600), 30, "MQTT keepalive in seconds", "SECONDS"),
        Option("--ca-file", readable_file, None, "CA certificate(s) for mqtts://", "PATH"),
        Option("--cert-file", readable_file, None, "client certificate for mqtts://", "PATH"),
        Option("--key-file", readable_file, None, "client key for mqtts://", "PATH"),
        Option(
            "--broker-password-file",
            readable_file,
            None,
            "file holding the broker password (Docker secrets)",
            "PATH",
        ),
    ]


def discovery_options() -> list[Option]:
    """Home Assistant's MQTT discovery, the same for the agent and the gauge."""
    return [
        Option("--no-discovery", switch, False, "no Home Assistant discovery", switch=True),
        Option(
            "--discovery-prefix", topic_prefix, "homeassistant", "Home Assistant's prefix", "PREFIX"
        ),
    ]
