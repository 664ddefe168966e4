"""The Home Assistant discovery checker passes real payloads and can fail."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ha_discovery import check_discovery

DEVICE = {
    "identifiers": ["swarmgauge_node1"],
    "name": "swarmgauge node1",
    "manufacturer": "swarmgauge",
    "model": "Raspberry Pi",
    "sw_version": "0.1.0",
    "via_device": "swarmgauge_cluster",
}
ORIGIN = {
    "name": "swarmgauge",
    "sw_version": "0.1.0",
    "support_url": "https://example.com/swarmgauge",
}


def sensor() -> dict[str, Any]:
    return {
        "name": "Temperature",
        "unique_id": "swarmgauge_node1_temperature",
        "state_topic": "swarmgauge/node1/state",
        "value_template": "{{ value_json.host.temperature_c }}",
        "availability_topic": "swarmgauge/node1/status",
        "payload_available": "online",
        "payload_not_available": "offline",
        "device": dict(DEVICE),
        "origin": dict(ORIGIN),
        "state_class": "measurement",
        "unit_of_measurement": "°C",
        "device_class": "temperature",
        "suggested_display_precision": 1,
        "entity_category": "diagnostic",
    }


def binary_sensor() -> dict[str, Any]:
    return {
        "name": "Docker",
        "unique_id": "swarmgauge_node1_docker",
        "state_topic": "swarmgauge/node1/state",
        "value_template": "{{ 'ON' if value_json.docker.ok else 'OFF' }}",
        "payload_on": "ON",
        "payload_off": "OFF",
        "availability_topic": "swarmgauge/node1/status",
        "payload_available": "online",
        "payload_not_available": "offline",
        "device": dict(DEVICE),
        "origin": dict(ORIGIN),
        "device_class": "connectivity",
        "entity_category": "diagnostic",
    }


def test_plausible_configs_pass() -> None:
    assert check_discovery("sensor", sensor()) == []
    assert check_discovery("binary_sensor", binary_sensor()) == []


def test_abbreviated_keys_are_accepted() -> None:
    config = {
        "~": "swarmgauge/node1",
        "stat_t": "~/state",
        "val_tpl": "{{ value_json.tasks.running }}",
        "uniq_id": "swarmgauge_node1_tasks",
        "stat_cla": "measurement",
        "sug_dsp_prc": 0,
        "avty": [{"t": "~/status", "pl_avail": "online", "pl_not_avail": "offline"}],
        "dev": {"ids": "swarmgauge_node1", "name": "swarmgauge node1", "mf": "swarmgauge"},
        "o": {"name": "swarmgauge", "sw": "0.1.0", "url": "https://example.com"},
        "p": "sensor",
    }
    assert check_discovery("sensor", config) == []


def test_unknown_key_is_reported() -> None:
    config = sensor() | {"colour": "red"}
    assert check_discovery("sensor", config) == ["unknown key 'colour'"]
    # a key of another platform is unknown here too
    assert "unknown key 'payload_on'" in check_discovery("sensor", sensor() | {"payload_on": "1"})


def test_unknown_device_key_is_reported() -> None:
    config = sensor()
    config["device"]["firmware"] = "1.2"
    assert check_discovery("sensor", config) == ["device: unknown key 'firmware'"]


def test_origin_needs_a_name_and_known_keys() -> None:
    config = sensor() | {"origin": {"sw_version": "0.1.0", "homepage": "https://example.com"}}
    assert check_discovery("sensor", config) == [
        "origin: unknown key 'homepage'",
        "origin: missing required key 'name'",
    ]


@pytest.mark.parametrize("category", ["config", "Diagnostic", "system", None])
def test_bad_entity_category_is_reported(category: str | None) -> None:
    for platform, config in (("sensor", sensor()), ("binary_sensor", binary_sensor())):
        problems = check_discovery(platform, config | {"entity_category": category})
        assert len(problems) == 1 and problems[0].startswith("'entity_category'")


def test_bad_device_class_is_reported() -> None:
    problems = check_discovery("sensor", sensor() | {"device_class": "cpu"})
    assert len(problems) == 1 and problems[0].startswith("'device_class': must be one of")
    # connectivity is a binary_sensor class, temperature a sensor class
    assert check_discovery("sensor", sensor() | {"device_class": "connectivity"})
    assert check_discovery("binary_sensor", binary_sensor() | {"device_class": "temperature"})


def test_missing_state_topic_is_reported() -> None:
    for platform, config in (("sensor", sensor()), ("binary_sensor", binary_sensor())):
        del config["state_topic"]
        assert check_discovery(platform, config) == ["missing required key 'state_topic'"]


def test_cross_field_rules() -> None:
    assert check_discovery("sensor", sensor() | {"unit_of_measurement": "C"}) != []
    assert check_discovery("sensor", sensor() | {"last_reset_value_template": "{{ 0 }}"}) != []
    wind = {"device_class": "wind_direction", "state_class": "measurement_angle"}
    assert check_discovery("sensor", sensor() | wind | {"unit_of_measurement": "°"}) == []
    assert check_discovery("sensor", sensor() | wind) != []
    enum = {"device_class": "enum", "options": ["ok", "degraded"]}
    no_unit = {k: v for k, v in sensor().items() if k not in ("unit_of_measurement", "state_class")}
    no_unit.pop("suggested_display_precision")
    assert check_discovery("sensor", no_unit | enum) == []
    assert check_discovery("sensor", sensor() | enum) != []  # a unit and a state class


def test_types_and_deprecations_are_reported() -> None:
    bad = {"qos": 3, "force_update": "yes", "expire_after": -1, "icon": "cpu", "name": 5}
    assert len(check_discovery("sensor", sensor() | bad)) == len(bad)
    assert check_discovery("sensor", sensor() | {"object_id": "t"}) != []
    assert check_discovery("sensor", sensor() | {"default_entity_id": "sensor.t"}) == []
    assert check_discovery("sensor", sensor() | {"availability": [{"topic": "a"}]}) != []
    config = sensor()
    del config["device"]["identifiers"]
    assert check_discovery("sensor", config) == [
        "device: needs at least one of 'identifiers' or 'connections'"
    ]


def test_other_platforms_are_refused() -> None:
    with pytest.raises(ValueError):
        check_discovery("switch", {})
