"""Home Assistant MQTT discovery: each node a device under the cluster's, its entities
read from the node's retained state (the README's "Home Assistant")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agent import __version__
from agent.shared.wire.topics import OFFLINE, ONLINE, Topics

CLUSTER_DEVICE = "swarmgauge_cluster"  # the gauge's Home Assistant device: every node's via
# what made the discovery configs (Home Assistant shows it in the device's info)
ORIGIN = {"name": "swarmgauge", "sw_version": __version__}


@dataclass(frozen=True)
class Entity:
    """One Home Assistant entity of a device, read from the device's state topic."""

    key: str
    name: str
    template: str
    platform: str = "sensor"  # or binary_sensor
    unit: str | None = None
    device_class: str | None = None
    precision: int | None = None  # suggested_display_precision
    diagnostic: bool = False  # entity_category diagnostic: shown apart from the readings


def on_off(condition: str) -> str:
    """A binary sensor's template: ON while the Jinja condition holds."""
    return f"{{{{ 'ON' if {condition} else 'OFF' }}}}"


NODE_ENTITIES: tuple[Entity, ...] = (
    Entity("strain", "Strain", "{{ (value_json.strain.value * 100) | round(1) }}", unit="%",
           precision=1),
    Entity("cpu", "CPU", "{{ value_json.host.cpu_percent }}", unit="%", precision=1),
    Entity("memory", "Memory", "{{ value_json.host.memory_percent }}", unit="%", precision=1),
    Entity("temperature", "Temperature", "{{ value_json.host.temperature_c }}", unit="°C",
           device_class="temperature", precision=1, diagnostic=True),
    Entity("tasks", "Running tasks", "{{ value_json.tasks.running }}", precision=0),
    Entity("docker", "Docker", on_off("value_json.docker.ok"), platform="binary_sensor",
           device_class="connectivity", diagnostic=True),
)  # fmt: skip


def node_object_id(node: str) -> str:
    """The node's Home Assistant id; a node named "cluster" must not be the cluster,
    nor share an id with another node (no node name starts with "_": safe_name)."""
    object_id = f"swarmgauge_{node}"
    return "swarmgauge__cluster" if object_id == CLUSTER_DEVICE else object_id


def discovery_config(
    discovery_prefix: str,
    entity: Entity,
    object_id: str,
    device: dict[str, Any],
    state: str,
    availability: str,
) -> tuple[str, str]:
    """(topic, JSON payload) announcing one entity to Home Assistant."""
    config: dict[str, Any] = {
        "name": entity.name,
        "unique_id": f"{object_id}_{entity.key}",
        "state_topic": state,
        "value_template": entity.template,
        "availability_topic": availability,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "device": device,
        "origin": ORIGIN,
    }
    if entity.platform == "sensor":
        config["state_class"] = "measurement"
    if entity.unit is not None:
        config["unit_of_measurement"] = entity.unit
    if entity.device_class is not None:
        config["device_class"] = entity.device_class
    if entity.precision is not None:
        config["suggested_display_precision"] = entity.precision
    if entity.diagnostic:
        config["entity_category"] = "diagnostic"
    topic = f"{discovery_prefix}/{entity.platform}/{object_id}/{entity.key}/config"
    return topic, json.dumps(config, separators=(",", ":"))


def discovery_messages(
    topics: Topics, discovery_prefix: str, with_temperature: bool
) -> list[tuple[str, str]]:
    """(topic, JSON payload) for each of the node's entities, for Home Assistant.

    Each node is one device, shown under the cluster's (via_device); the ids are
    stable across restarts. A node whose host reports no temperature gets no
    temperature sensor rather than one stuck unknown.
    """
    object_id = node_object_id(topics.node)
    device = {
        "identifiers": [object_id],
        "name": f"swarmgauge {topics.node}",
        "manufacturer": "swarmgauge",
        "model": "Swarm node agent",
        "sw_version": __version__,
        "via_device": CLUSTER_DEVICE,
    }
    return [
        discovery_config(
            discovery_prefix, entity, object_id, device, topics.state, topics.availability
        )
        for entity in NODE_ENTITIES
        if with_temperature or entity.key != "temperature"
    ]
