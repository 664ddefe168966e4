"""swarmgauge-identify NODE [SECONDS]: "which one is pi-7?" That node's LEDs flash white
for SECONDS (1 to 60, default 10), and this waits until its state says so.

    swarmgauge-identify pi-7 --broker mqtts://operator@<first Pi>:8883 \\
        --ca-file workshop/secrets/ca.crt \\
        --broker-password-file workshop/secrets/operator_password

In the stack only the operator and the gauge may ask. Exit status: 0 once the node said
it flashes, 1 if the broker or the node did not answer, 2 for bad arguments.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.shared.mqtt.client import (
    client_id,
    describe_connect_error,
    describe_refusal,
    new_client,
)
from agent.shared.settings.mqtt import MqttSettings, mqtt_options, mqtt_settings_from
from agent.shared.settings.options import REQUIRED, Option, parse_options
from agent.shared.settings.start import load_settings
from agent.shared.wire.identify import DEFAULT_S, identify_topic, parse_identify
from agent.shared.wire.names import safe_name
from agent.shared.wire.payloads import Rejected

PROG = "swarmgauge-identify"
ANSWER_S = 15.0  # the node answers at its next state, within a second or so


def seconds_value(text: str) -> int:
    try:
        return parse_identify(text.encode())
    except Rejected as why:
        raise ValueError(str(why).split(",")[0]) from None


@dataclass(frozen=True)
class IdentifySettings:
    node: str
    seconds: int
    mqtt: MqttSettings


def load_identify(argv: Sequence[str] | None, environ: Mapping[str, str]) -> IdentifySettings:
    v = parse_options(
        PROG,
        "Makes a node's LEDs flash white, to find it in the room.",
        [
            Option("node", safe_name, REQUIRED, "the node's host name", "NODE"),
            Option("seconds", seconds_value, DEFAULT_S, "how long, 1 to 60", "SECONDS"),
            *mqtt_options(),
        ],
        argv,
        environ,
    )
    return IdentifySettings(v["node"], v["seconds"], mqtt_settings_from(v))


def ask(settings: IdentifySettings) -> str | None:
    """Ask, then wait for the node's state to say it flashes: None, or why not."""
    mqtt = settings.mqtt
    assert mqtt.broker is not None
    broker = mqtt.broker
    state_topic = f"{mqtt.prefix}/node/{settings.node}/state"
    done = threading.Event()
    problem: list[str] = []
    client = new_client(broker, client_id("identify", settings.node), mqtt.tls)

    def on_connect(c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            problem.append(describe_refusal(reason, broker))
            done.set()
            return
        c.subscribe(state_topic, qos=0)
        payload = str(settings.seconds).encode()
        c.publish(identify_topic(mqtt.prefix, settings.node), payload, qos=1)

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        try:
            if not msg.retain and json.loads(msg.payload).get("identify") is True:
                done.set()
        except (ValueError, AttributeError):
            pass  # not a state this can read: wait for the next

    def on_connect_fail(_c: Any, _u: Any) -> None:
        problem.append(describe_connect_error(sys.exc_info()[1], broker))
        done.set()

    client.on_connect, client.on_message = on_connect, on_message
    client.on_connect_fail = on_connect_fail
    client.connect_async(broker.host, broker.port, keepalive=mqtt.keepalive_s)
    client.loop_start()
    try:
        if not done.wait(ANSWER_S):
            return (
                f"{settings.node} did not say it flashes within {ANSWER_S:g} s (is its agent"
                f" running, with --prefix {mqtt.prefix}? may this user ask it?)"
            )
        return problem[0] if problem else None
    finally:
        client.disconnect()
        client.loop_stop()


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings(PROG, load_identify, argv)
    if settings is None:
        return 2
    if settings.mqtt.broker is None:
        print(f"{PROG}: error: --broker none: there is nothing to ask over", file=sys.stderr)
        return 2
    why = ask(settings)
    if why is not None:
        print(f"{PROG}: {why}", file=sys.stderr)
        return 1
    print(f"{settings.node} is flashing white for {settings.seconds} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
