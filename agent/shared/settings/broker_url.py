"""Where and how to reach the broker, as values the MQTT link takes: the --broker URL
(mqtt://[user[:password]@]host[:port], mqtts://… for TLS, or none) and the TLS files."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from agent.shared.errors import ConfigError

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class BrokerUrl:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in logs

    def __str__(self) -> str:
        """The URL without the password, for logs."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def parse_broker_url(text: str) -> BrokerUrl | None:
    """A BrokerUrl, or None for 'none' (MQTT off). Raises ConfigError on a malformed URL."""
    if text.strip().lower() == "none":
        return None
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise ConfigError("malformed broker URL (a port from 1 to 65535?)") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise ConfigError("broker URL must start with mqtt:// or mqtts:// (or be 'none')")
    if port == 0:
        raise ConfigError("broker URL port must be 1 to 65535")
    if not parts.hostname:
        raise ConfigError("broker URL has no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError("broker URL must be only mqtt[s]://[user[:password]@]host[:port]")
    return BrokerUrl(
        host=parts.hostname,
        port=port or DEFAULT_PORTS[parts.scheme],
        tls=parts.scheme == "mqtts",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


@dataclass(frozen=True)
class TlsFiles:
    ca_file: str | None = None  # None: the system's CA certificates
    cert_file: str | None = None
    key_file: str | None = None
