"""MQTT topics and Home Assistant discovery payloads (the MQTT contract in the README)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agent import __version__

ONLINE = "online"
OFFLINE = "offline"


@dataclass(frozen=True)
class Topics:
    """Where one node's messages go. prefix: default 'swarmgauge'; node: a safe name."""

    prefix: str
    node: str

    @property
    def state(self) -> str:
        return f"{self.prefix}/node/{self.node}/state"

    @property
    def availability(self) -> str:
        return f"{self.prefix}/node/{self.node}/availability"

    @property
    def cluster(self) -> str:
        return f"{self.prefix}/cluster/state"


# key, name, value template, unit, device class
SENSORS: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    ("strain", "Strain", "{{ (value_json.strain.value * 100) | round(1) }}", "%", None),
    ("cpu", "CPU", "{{ value_json.host.cpu_percent }}", "%", None),
    ("memory", "Memory", "{{ value_json.host.memory_percent }}", "%", None),
    ("temperature", "Temperature", "{{ value_json.host.temperature_c }}", "°C", "temperature"),
    ("tasks", "Running tasks", "{{ value_json.tasks.running }}", None, None),
)


def discovery_messages(
    topics: Topics, discovery_prefix: str, with_temperature: bool
) -> list[tuple[str, str]]:
    """(topic, JSON payload) for each of the node's sensors, for Home Assistant.

    Each node is one device; the ids are stable across restarts. A node whose host
    reports no temperature gets no temperature sensor rather than one stuck unknown.
    """
    object_id = f"swarmgauge_{topics.node}"
    device = {
        "identifiers": [object_id],
        "name": f"swarmgauge {topics.node}",
        "manufacturer": "swarmgauge",
        "model": "Swarm node agent",
        "sw_version": __version__,
    }
    messages = []
    for key, name, template, unit, device_class in SENSORS:
        if key == "temperature" and not with_temperature:
            continue
        config: dict[str, Any] = {
            "name": name,
            "unique_id": f"{object_id}_{key}",
            "state_topic": topics.state,
            "value_template": template,
            "availability_topic": topics.availability,
            "payload_available": ONLINE,
            "payload_not_available": OFFLINE,
            "state_class": "measurement",
            "device": device,
        }
        if unit is not None:
            config["unit_of_measurement"] = unit
        if device_class is not None:
            config["device_class"] = device_class
        topic = f"{discovery_prefix}/sensor/{object_id}/{key}/config"
        messages.append((topic, json.dumps(config, separators=(",", ":"))))
    return messages
