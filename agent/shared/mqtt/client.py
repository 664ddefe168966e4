"""A paho-mqtt 2.x client set up from a broker URL: auth, TLS, back-off (agent and gauge)."""

from __future__ import annotations

import os
import socket
import ssl

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from agent.shared.settings.broker_url import BrokerUrl, TlsFiles


def describe_connect_error(exc: BaseException | None, broker: BrokerUrl) -> str:
    """One line saying why the broker could not be reached."""
    where = f"{broker.host}:{broker.port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS: the broker's certificate is not trusted ({exc.verify_message}); check --ca-file"
        )
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake with {where} failed ({exc.reason or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return f"no broker listening at {where}"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve broker host {broker.host!r}"
    if isinstance(exc, TimeoutError):
        return f"broker at {where} did not answer"
    if isinstance(exc, OSError):
        return f"cannot reach broker at {where}: {exc.strerror or exc}"
    return f"cannot reach broker at {where}"


REFUSED_LOGIN = ("Not authorized", "Bad user name or password")


NODE_HINT = (
    "in the stack, a Pi that joined after the deploy needs its password: workshop/passwords"
    " with SWARMGAUGE_NODES, then deploy again"
)


def describe_refusal(reason: object, broker: BrokerUrl, hint: str | None = None) -> str:
    """One line for a broker that answered CONNECT with a refusal; hint: what else to
    check when it refused the login."""
    line = f"broker {broker} refused the connection: {reason}"
    if str(reason) in REFUSED_LOGIN:
        more = f"; {hint}" if hint else ""
        line += f" (as {broker.username or 'anonymous'}: check the user and password{more})"
    return line


def client_id(kind: str, name: str) -> str:
    """swarmgauge-<kind>-<name>-<8 random hex digits>: the random part keeps anyone who
    can log in to the broker from naming this client and taking its connection over."""
    return f"swarmgauge-{kind}-{name}-{os.urandom(4).hex()}"


def new_client(
    broker: BrokerUrl,
    client_id: str,
    tls: TlsFiles | None = None,
    reconnect_max_s: int = 30,
) -> mqtt.Client:
    """A client with callback API v2; paho retries with back-off from 1 s to reconnect_max_s."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    if broker.username:
        c.username_pw_set(broker.username, broker.password)
    if broker.tls:
        t = tls or TlsFiles()
        c.tls_set(ca_certs=t.ca_file, certfile=t.cert_file, keyfile=t.key_file)
    c.reconnect_delay_set(min_delay=1, max_delay=max(1, reconnect_max_s))
    return c
