"""The whole cluster as one Home Assistant device, read from the gauge's state message
(<prefix>/gauge/state); every node's device sits under it (via_device). Pure."""

from __future__ import annotations

from agent import __version__
from agent.shared.wire.discovery import CLUSTER_DEVICE, Entity, discovery_config, on_off
from agent.shared.wire.topics import Topics

# Unknown totals or strain are null in the state: Home Assistant reads "None" as unknown.
CLUSTER_ENTITIES: tuple[Entity, ...] = (
    Entity("strain", "Strain",
           "{{ none if value_json.strain is none else (value_json.strain * 100) | round(1) }}",
           unit="%", precision=1),
    Entity("desired", "Desired tasks", "{{ value_json.desired }}", precision=0),
    Entity("running", "Running tasks", "{{ value_json.running }}", precision=0),
    Entity("nodes_online", "Nodes online", "{{ value_json.nodes.online }}", precision=0),
    Entity("nodes_stale", "Nodes stale", "{{ value_json.nodes.stale }}", precision=0),
    Entity("alarm", "Alarm", on_off("value_json.alarm"), platform="binary_sensor",
           device_class="problem"),
)  # fmt: skip

DEVICE = {
    "identifiers": [CLUSTER_DEVICE],
    "name": "swarmgauge cluster",
    "manufacturer": "swarmgauge",
    "model": "Swarm cluster gauge",
    "sw_version": __version__,
}


def cluster_discovery(topics: Topics, discovery_prefix: str) -> list[tuple[str, str]]:
    """(topic, JSON payload) for each of the cluster device's entities."""
    return [
        discovery_config(
            discovery_prefix, entity, CLUSTER_DEVICE, DEVICE, topics.state, topics.availability
        )
        for entity in CLUSTER_ENTITIES
    ]
