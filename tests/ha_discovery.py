"""A strict checker of Home Assistant MQTT discovery config payloads (sensor, binary_sensor).

``check_discovery(platform, config)`` returns human-readable problems; an empty list means
the payload is one Home Assistant accepts as it is, with nothing dropped, coerced or
deprecated.

Every table below was read from Home Assistant Core 2026.2.3, the newest release on PyPI
when this was written (wheel homeassistant-2026.2.3-py3-none-any.whl, sha256 8167820c...),
in these files under homeassistant/:

- components/mqtt/config.py: MQTT_BASE_SCHEMA / MQTT_RO_SCHEMA (qos, encoding,
  state_topic required, value_template)
- components/mqtt/schemas.py: availability (single and list form, mutually exclusive),
  MQTT_ENTITY_DEVICE_INFO_SCHEMA (identifiers or connections required, via_hub deprecated),
  MQTT_ORIGIN_INFO_SCHEMA (name required), MQTT_ENTITY_COMMON_SCHEMA
- components/mqtt/sensor.py: _PLATFORM_SCHEMA_BASE and
  validate_sensor_state_and_device_class_config (the cross-field rules)
- components/mqtt/binary_sensor.py: PLATFORM_SCHEMA_MODERN
- components/mqtt/abbreviations.py: ABBREVIATIONS (the part these platforms use),
  DEVICE_ABBREVIATIONS, ORIGIN_ABBREVIATIONS
- components/mqtt/discovery.py: how abbreviations and the "~" topic base are expanded
- components/mqtt/entity.py: object_id deprecated for default_entity_id (stops working in
  2026.4); a device without a name is logged
- components/mqtt/util.py: valid_subscribe_topic, valid_qos_schema
- components/sensor/const.py: SensorDeviceClass, SensorStateClass, NON_NUMERIC_DEVICE_CLASSES,
  DEVICE_CLASS_UNITS, DEVICE_CLASS_STATE_CLASSES, STATE_CLASS_UNITS, AMBIGUOUS_UNITS
- components/sensor/__init__.py, components/binary_sensor/__init__.py: entity category
  "config" refused when the entity is added; BinarySensorDeviceClass; the checks made when
  a sensor's state is written
- helpers/config_validation.py (string, boolean, positive_int, icon, url, configuration_url)
  and const.py (EntityCategory)

How Home Assistant treats what this reports:
- an unknown top-level key, or one in an availability item, is silently dropped
  (DISCOVERY_SCHEMA uses vol.REMOVE_EXTRA, and the item's plain dict inherits it);
- an unknown key in device or origin (schemas of their own), or any other schema error,
  makes it reject the whole payload;
- entity_category "config", or a unit with a date/enum/timestamp device class, breaks the
  entity when it is added or updated;
- a state_class or missing unit that doesn't fit the device class, object_id, via_hub and a
  device without a name only get a log line.

Stricter than Home Assistant on purpose: strings, booleans and integers must be JSON
strings, booleans and integers (HA coerces 1 to "1", "yes" to True and "5" to 5), and
templates are only checked for being strings (HA compiles them with Jinja). Like HA it
lowercases device_class and state_class before looking them up, expands "~" in the *_topic
values, and takes "platform" ("mqtt", or the platform's own name as in a device discovery
component).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

Check = Callable[[Any], str | None]

# abbreviations.py ABBREVIATIONS, the entries whose full key a sensor or binary_sensor takes
# ("t" is for availability items; "name": "name" and the like are left out).
ABBREVIATIONS: dict[str, str] = {
    "avty": "availability",
    "avty_mode": "availability_mode",
    "avty_t": "availability_topic",
    "avty_tpl": "availability_template",
    "def_ent_id": "default_entity_id",
    "dev": "device",
    "dev_cla": "device_class",
    "e": "encoding",
    "en": "enabled_by_default",
    "ent_cat": "entity_category",
    "ent_pic": "entity_picture",
    "exp_aft": "expire_after",
    "frc_upd": "force_update",
    "ic": "icon",
    "json_attr_t": "json_attributes_topic",
    "json_attr_tpl": "json_attributes_template",
    "lrst_val_tpl": "last_reset_value_template",
    "o": "origin",
    "obj_id": "object_id",
    "off_dly": "off_delay",
    "ops": "options",
    "p": "platform",
    "pl_avail": "payload_available",
    "pl_not_avail": "payload_not_available",
    "pl_off": "payload_off",
    "pl_on": "payload_on",
    "stat_cla": "state_class",
    "stat_t": "state_topic",
    "sug_dsp_prc": "suggested_display_precision",
    "t": "topic",
    "uniq_id": "unique_id",
    "unit_of_meas": "unit_of_measurement",
    "val_tpl": "value_template",
}
DEVICE_ABBREVIATIONS: dict[str, str] = {
    "cns": "connections",
    "cu": "configuration_url",
    "ids": "identifiers",
    "mf": "manufacturer",
    "mdl": "model",
    "mdl_id": "model_id",
    "hw": "hw_version",
    "sw": "sw_version",
    "sa": "suggested_area",
    "sn": "serial_number",
}
ORIGIN_ABBREVIATIONS: dict[str, str] = {"sw": "sw_version", "url": "support_url"}

# binary_sensor/__init__.py BinarySensorDeviceClass
BINARY_SENSOR_DEVICE_CLASSES = frozenset(
    "battery battery_charging carbon_monoxide cold connectivity door garage_door gas heat "
    "light lock moisture motion moving occupancy opening plug power presence problem running "
    "safety smoke sound tamper update vibration window".split()
)
# sensor/const.py SensorStateClass, NON_NUMERIC_DEVICE_CLASSES, STATE_CLASS_UNITS
STATE_CLASSES = frozenset({"measurement", "measurement_angle", "total", "total_increasing"})
NON_NUMERIC_DEVICE_CLASSES = frozenset({"date", "enum", "timestamp"})
STATE_CLASS_UNITS: dict[str, frozenset[str | None]] = {"measurement_angle": frozenset({"°"})}

# sensor/const.py DEVICE_CLASS_UNITS (the unit enums resolved to their values)
_PRESSURE = {"Pa", "bar", "cbar", "hPa", "inHg", "inH₂O", "kPa", "mPa", "mbar", "mmHg", "psi"}
_ENERGY = {"GJ", "GWh", "Gcal", "J", "MJ", "MWh", "Mcal", "TWh", "Wh", "cal", "kJ", "kWh"}
_ENERGY |= {"kcal", "mWh"}
_VOLUME = {"CCF", "L", "MCF", "fl. oz.", "ft³", "gal", "mL", "m³"}
_SPEED = {"Beaufort", "ft/s", "in/s", "km/h", "kn", "m/min", "m/s", "mm/s", "mph"}
_FLUX = {"in/d", "in/h", "mm/d", "mm/h"}
_TEMPERATURE = {"K", "°C", "°F"}
_UG_M3 = {"μg/m³"}
_PPB_UG_M3 = {"ppb", "μg/m³"}
_UNITS: dict[str, set[str | None]] = {
    "absolute_humidity": {"g/m³", "mg/m³"},
    "apparent_power": {"VA", "kVA", "mVA"},
    "aqi": {None},
    "area": {"ac", "cm²", "ft²", "ha", "in²", "km²", "mi²", "mm²", "m²", "yd²"},
    "atmospheric_pressure": _PRESSURE,
    "battery": {"%"},
    "blood_glucose_concentration": {"mg/dL", "mmol/L"},
    "carbon_monoxide": {"mg/m³", "ppb", "ppm", "μg/m³"},
    "carbon_dioxide": {"ppm"},
    "conductivity": {"S/cm", "mS/cm", "μS/cm"},
    "current": {"A", "mA"},
    "data_rate": {"B/s", "GB/s", "Gbit/s", "GiB/s", "KiB/s", "MB/s", "Mbit/s", "MiB/s", "bit/s"}
    | {"kB/s", "kbit/s"},
    "data_size": {"B", "EB", "EiB", "GB", "Gbit", "GiB", "KiB", "MB", "Mbit", "MiB", "PB"}
    | {"PiB", "TB", "TiB", "YB", "YiB", "ZB", "ZiB", "bit", "kB", "kbit"},
    "distance": {"cm", "ft", "in", "km", "m", "mi", "mm", "nmi", "yd"},
    "duration": {"d", "h", "min", "ms", "s", "μs"},
    "energy": _ENERGY,
    "energy_distance": {"Wh/km", "kWh/100km", "km/kWh", "mi/kWh"},
    "energy_storage": _ENERGY,
    "frequency": {"GHz", "Hz", "MHz", "kHz"},
    "gas": {"CCF", "L", "MCF", "ft³", "m³"},
    "humidity": {"%"},
    "illuminance": {"lx"},
    "irradiance": {"BTU/(h⋅ft²)", "W/m²"},
    "moisture": {"%"},
    "nitrogen_dioxide": _PPB_UG_M3,
    "nitrogen_monoxide": _PPB_UG_M3,
    "nitrous_oxide": _UG_M3,
    "ozone": _PPB_UG_M3,
    "ph": {None},
    "pm1": _UG_M3,
    "pm10": _UG_M3,
    "pm25": _UG_M3,
    "pm4": _UG_M3,
    "power_factor": {"%", None},
    "power": {"GW", "MW", "TW", "W", "kW", "mW"},
    "precipitation": {"cm", "in", "mm"},
    "precipitation_intensity": _FLUX,
    "pressure": _PRESSURE,
    "reactive_energy": {"kvarh", "varh"},
    "reactive_power": {"kvar", "mvar", "var"},
    "signal_strength": {"dB", "dBm"},
    "sound_pressure": {"dB", "dBA"},
    "speed": _SPEED | _FLUX,
    "sulphur_dioxide": _PPB_UG_M3,
    "temperature": _TEMPERATURE,
    "temperature_delta": _TEMPERATURE,
    "volatile_organic_compounds": {"mg/m³", "μg/m³"},
    "volatile_organic_compounds_parts": {"ppb", "ppm"},
    "voltage": {"MV", "V", "kV", "mV", "μV"},
    "volume": _VOLUME,
    "volume_flow_rate": {"L/h", "L/min", "L/s", "ft³/min", "gal/d", "gal/h", "gal/min", "mL/s"}
    | {"m³/h", "m³/min", "m³/s"},
    "volume_storage": _VOLUME,
    "water": {"CCF", "L", "MCF", "ft³", "gal", "m³"},
    "weight": {"g", "kg", "lb", "mg", "oz", "st", "μg"},
    "wind_direction": {"°"},
    "wind_speed": _SPEED,
}
DEVICE_CLASS_UNITS: dict[str, frozenset[str | None]] = {k: frozenset(v) for k, v in _UNITS.items()}
# sensor/const.py SensorDeviceClass: the classes with units, plus those without
SENSOR_DEVICE_CLASSES = frozenset(DEVICE_CLASS_UNITS) | NON_NUMERIC_DEVICE_CLASSES | {"monetary"}

# sensor/const.py DEVICE_CLASS_STATE_CLASSES: "measurement" unless listed here
_STATE_CLASS_EXCEPTIONS: dict[str, frozenset[str]] = {
    **dict.fromkeys(["area", "data_size", "distance", "duration", "precipitation"], STATE_CLASSES),
    **dict.fromkeys(NON_NUMERIC_DEVICE_CLASSES, frozenset()),
    **dict.fromkeys(
        ["energy", "gas", "reactive_energy", "volume", "water"],
        frozenset({"total", "total_increasing"}),
    ),
    "monetary": frozenset({"total"}),
    "weight": frozenset({"measurement", "total", "total_increasing"}),
    "wind_direction": frozenset({"measurement_angle"}),
}
DEVICE_CLASS_STATE_CLASSES: dict[str, frozenset[str]] = {
    dc: _STATE_CLASS_EXCEPTIONS.get(dc, frozenset({"measurement"})) for dc in SENSOR_DEVICE_CLASSES
}
# sensor/const.py AMBIGUOUS_UNITS: HA rewrites these before it checks the unit
AMBIGUOUS_UNITS: dict[str, str] = {
    "\u00b5Sv/h": "μSv/h",
    "\u00b5S/cm": "μS/cm",
    "\u00b5V": "μV",
    "\u00b5g/ft³": "μg/ft³",
    "\u00b5g/m³": "μg/m³",
    "\u00b5mol/s⋅m²": "μmol/s⋅m²",
    "\u00b5g": "μg",
    "\u00b5s": "μs",
    "mVAr": "mvar",
    "VAr": "var",
    "kVAr": "kvar",
    "VArh": "varh",
    "kVArh": "kvarh",
}


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) else f"must be a string, got {value!r}"


def _string_or_null(value: Any) -> str | None:
    return None if value is None else _string(value)


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, got {value!r}"


def _non_negative_int(value: Any) -> str | None:
    # cv.positive_int is vol.Range(min=0): 0 is accepted
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    return f"must be an integer >= 0, got {value!r}"


def _qos(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1, 2):
        return None
    return f"must be 0, 1 or 2, got {value!r}"


def _icon(value: Any) -> str | None:
    if isinstance(value, str) and ":" in value:
        return None
    return f'must be a string "prefix:name", got {value!r}'


def _url(*schemes: str) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, str):
            parsed = urlparse(value)
            if parsed.scheme in schemes and parsed.netloc:
                return None
        return f"must be a {'/'.join(schemes)} URL, got {value!r}"

    return check


def _topic(value: Any) -> str | None:
    """util.py valid_subscribe_topic."""
    if not isinstance(value, str):
        return f"must be a string, got {value!r}"
    try:
        raw = value.encode("utf-8")
    except UnicodeError:
        return "must be valid UTF-8"
    if not raw:
        return "must not be empty"
    if len(raw) > 65535:
        return "must not be longer than 65535 bytes"
    for char in value:
        if char <= "\u001f" or "\u007f" <= char <= "\u009f":
            return f"must not contain control characters, got {value!r}"
        if "\ufdd0" <= char <= "\ufdef" or (ord(char) & 0xFFFF) in (0xFFFE, 0xFFFF):
            return f"must not contain non-characters, got {value!r}"
    levels = value.split("/")
    if any("+" in level and level != "+" for level in levels):
        return f"a '+' wildcard must be a whole level, got {value!r}"
    if "#" in value and (value.count("#") > 1 or levels[-1] != "#"):
        return f"a '#' wildcard must be the whole last level, got {value!r}"
    return None


def _one_of(allowed: frozenset[str], lower: bool = False) -> Check:
    def check(value: Any) -> str | None:
        if value is None:  # device_class and state_class may be null
            return None
        if isinstance(value, str) and (value.lower() if lower else value) in allowed:
            return None
        return f"must be one of {', '.join(sorted(allowed))}, got {value!r}"

    return check


def _string_list(value: Any) -> str | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return None
    return f"must be a list of strings, got {value!r}"


def _diagnostic(value: Any) -> str | None:
    # EntityCategory is "config" or "diagnostic"; sensor and binary_sensor entities refuse
    # "config" when they are added (async_internal_added_to_hass).
    if value == "diagnostic":
        return None
    if value == "config":
        return "'config' is refused for this platform; only 'diagnostic' is accepted"
    return f"must be 'diagnostic', got {value!r}"


# config.py MQTT_RO_SCHEMA, schemas.py availability and MQTT_ENTITY_COMMON_SCHEMA
_COMMON: dict[str, Check] = {
    "qos": _qos,
    "encoding": _string,
    "state_topic": _topic,
    "value_template": _string,
    "availability_topic": _topic,
    "availability_template": _string,
    "payload_available": _string,
    "payload_not_available": _string,
    "availability_mode": _one_of(frozenset({"all", "any", "latest"})),
    "availability": lambda value: None,  # checked by _check_availability
    "device": lambda value: None,  # checked by _check_device
    "origin": lambda value: None,  # checked by _check_origin
    "entity_picture": _url("http", "https"),
    "enabled_by_default": _boolean,
    "entity_category": _diagnostic,
    "icon": _icon,
    "json_attributes_topic": _topic,
    "json_attributes_template": _string,
    "default_entity_id": _string,
    "object_id": _string,
    "unique_id": _string,
    # not in the schema: discovery.py pops "~" and expands it in the *_topic values; a
    # device discovery component carries "platform", and legacy payloads "platform": "mqtt"
    "~": _string,
    "platform": _string,
    # both platforms
    "expire_after": _non_negative_int,
    "force_update": _boolean,
    "name": _string_or_null,
}
PLATFORM_KEYS: dict[str, dict[str, Check]] = {
    "sensor": {
        **_COMMON,
        "device_class": _one_of(SENSOR_DEVICE_CLASSES, lower=True),
        "last_reset_value_template": _string,
        "options": _string_list,
        "suggested_display_precision": _non_negative_int,
        "state_class": _one_of(STATE_CLASSES, lower=True),
        "unit_of_measurement": _string_or_null,
    },
    "binary_sensor": {
        **_COMMON,
        "device_class": _one_of(BINARY_SENSOR_DEVICE_CLASSES, lower=True),
        "off_delay": _non_negative_int,
        "payload_off": _string,
        "payload_on": _string,
    },
}
REQUIRED_KEYS = ("state_topic",)  # MQTT_RO_SCHEMA

AVAILABILITY_ITEM_KEYS: dict[str, Check] = {
    "topic": _topic,  # required
    "payload_available": _string,
    "payload_not_available": _string,
    "value_template": _string,
}
DEVICE_KEYS: dict[str, Check] = {
    "identifiers": lambda v: None if isinstance(v, str) else _string_list(v),
    "connections": lambda v: (
        None
        if isinstance(v, list)
        and all(isinstance(c, list) and len(c) >= 2 and not _string_list(c) for c in v)
        else f"must be a list of [type, value] string pairs, got {v!r}"
    ),
    "manufacturer": _string,
    "model": _string,
    "model_id": _string,
    "name": _string,
    "hw_version": _string,
    "serial_number": _string,
    "sw_version": _string,
    "via_device": _string,
    "suggested_area": _string,
    "configuration_url": _url("http", "https", "homeassistant"),
}
ORIGIN_KEYS: dict[str, Check] = {
    "name": _string,  # required
    "sw_version": _string,
    "support_url": _url("http", "https", "homeassistant"),
}


def _expand(
    where: str, given: dict[str, Any], abbreviations: dict[str, str], problems: list[str]
) -> dict[str, tuple[str, Any]]:
    """Full key -> (key as given, value), as discovery.py _replace_abbreviations does."""
    out: dict[str, tuple[str, Any]] = {}
    for key, value in given.items():
        full = abbreviations.get(key, key)
        if full in out:
            problems.append(f"{where}both '{out[full][0]}' and '{key}' given for {full}")
        if full not in out or full != key:  # HA keeps the abbreviated one
            out[full] = (key, value)
    return out


def _check_keys(
    where: str,
    expanded: dict[str, tuple[str, Any]],
    checks: dict[str, Check],
    problems: list[str],
) -> None:
    for full, (key, value) in expanded.items():
        name = f"'{key}'" if key == full else f"'{key}' ({full})"
        if full not in checks:
            problems.append(f"{where}unknown key {name}")
        elif (problem := checks[full](value)) is not None:
            problems.append(f"{where}{name}: {problem}")


def _check_device(device: Any, problems: list[str]) -> None:
    if not isinstance(device, dict):
        problems.append(f"device must be an object, got {device!r}")
        return
    keys = _expand("device: ", device, DEVICE_ABBREVIATIONS, problems)
    if "via_hub" in keys:
        problems.append("device: 'via_hub' is deprecated, use 'via_device'")
        keys.pop("via_hub")
    _check_keys("device: ", keys, DEVICE_KEYS, problems)
    if not any(keys.get(k, ("", None))[1] for k in ("identifiers", "connections")):
        problems.append("device: needs at least one of 'identifiers' or 'connections'")
    if "name" not in keys:
        problems.append("device: has no 'name' (HA logs that device info needs a name)")


def _check_origin(origin: Any, problems: list[str]) -> None:
    if not isinstance(origin, dict):
        problems.append(f"origin must be an object, got {origin!r}")
        return
    keys = _expand("origin: ", origin, ORIGIN_ABBREVIATIONS, problems)
    _check_keys("origin: ", keys, ORIGIN_KEYS, problems)
    if "name" not in keys:
        problems.append("origin: missing required key 'name'")


def _check_availability(availability: Any, base: str | None, problems: list[str]) -> None:
    items = availability if isinstance(availability, list) else [availability]
    for index, item in enumerate(items):
        where = f"availability[{index}]: "
        if not isinstance(item, dict):
            problems.append(f"{where}must be an object, got {item!r}")
            continue
        keys = _expand(where, item, ABBREVIATIONS, problems)
        if base is not None and "topic" in keys:
            keys["topic"] = (keys["topic"][0], _with_base(keys["topic"][1], base))
        _check_keys(where, keys, AVAILABILITY_ITEM_KEYS, problems)
        if "topic" not in keys:
            problems.append(f"{where}missing required key 'topic'")


def _with_base(value: Any, base: str) -> Any:
    """discovery.py _replace_topic_base for one topic."""
    if not isinstance(value, str) or not value:
        return value
    expanded = value
    if value[0] == "~":
        expanded = f"{base}{value[1:]}"
    if value[-1] == "~":
        expanded = f"{value[:-1]}{base}"
    return expanded


def _check_sensor(config: dict[str, Any], problems: list[str]) -> None:
    """sensor.py validate_sensor_state_and_device_class_config, and SensorEntity.state."""
    device_class = config.get("device_class")
    state_class = config.get("state_class")
    unit = config.get("unit_of_measurement")
    device_class = device_class.lower() if isinstance(device_class, str) else None
    state_class = state_class.lower() if isinstance(state_class, str) else None
    if not isinstance(unit, str) or not unit.strip():
        unit = None  # HA drops an empty unit
    unit = AMBIGUOUS_UNITS.get(unit, unit) if unit is not None else None

    if "last_reset_value_template" in config and state_class != "total":
        problems.append(f"last_reset_value_template needs state_class 'total', got {state_class!r}")
    if (options := config.get("options")) is not None:
        if not options:
            problems.append("options must not be an empty list")
        if state_class or unit:
            problems.append("options can't be used with state_class or unit_of_measurement")
        if device_class != "enum":
            problems.append(f"options needs device_class 'enum', got {device_class!r}")
    if state_class in STATE_CLASS_UNITS and unit not in STATE_CLASS_UNITS[state_class]:
        allowed = ", ".join(sorted(str(u) for u in STATE_CLASS_UNITS[state_class]))
        problems.append(
            f"unit_of_measurement {unit!r} is not valid with state_class {state_class!r}"
            f" (expected {allowed})"
        )
    if device_class is None:
        return
    units = DEVICE_CLASS_UNITS.get(device_class)
    if units is not None and unit not in units:
        allowed = ", ".join(sorted(str(u) for u in units if u is not None))
        if None in units:
            allowed = f"no unit{', or ' + allowed if allowed else ''}"
        if unit is None:  # not in the schema: SensorEntity.state logs a warning
            problems.append(
                f"device_class {device_class!r} needs a unit_of_measurement ({allowed})"
            )
        else:
            problems.append(
                f"unit_of_measurement {unit!r} is not valid with device_class"
                f" {device_class!r} (expected {allowed})"
            )
    if device_class in NON_NUMERIC_DEVICE_CLASSES and unit is not None:
        problems.append(
            f"device_class {device_class!r} is not numeric and can't have a unit"
            " (the sensor fails on every state)"
        )
    state_classes = DEVICE_CLASS_STATE_CLASSES.get(device_class)
    if state_class and state_classes is not None and state_class not in state_classes:
        expected = ", ".join(sorted(state_classes)) or "no state_class"
        problems.append(
            f"state_class {state_class!r} is impossible with device_class {device_class!r}"
            f" (HA logs a warning; expected {expected})"
        )


def check_discovery(platform: str, config: dict[str, Any]) -> list[str]:
    """Problems with one component's discovery payload; [] when HA takes it as it is."""
    if platform not in PLATFORM_KEYS:
        raise ValueError(f"unsupported platform {platform!r}: only sensor and binary_sensor")
    if not isinstance(config, dict):
        return [f"config must be an object, got {config!r}"]
    problems: list[str] = []
    keys = _expand("", config, ABBREVIATIONS, problems)
    base = keys.get("~", ("", None))[1]
    if isinstance(base, str):
        for full, (key, value) in list(keys.items()):
            if full.endswith("topic"):
                keys[full] = (key, _with_base(value, base))
    else:
        base = None
    _check_keys("", keys, PLATFORM_KEYS[platform], problems)
    problems += [f"missing required key '{k}'" for k in REQUIRED_KEYS if k not in keys]
    values = {full: value for full, (_, value) in keys.items()}

    if "availability" in values:
        _check_availability(values["availability"], base, problems)
        if "availability_topic" in values:
            problems.append("availability and availability_topic can't both be set")
    if "device" in values:
        _check_device(values["device"], problems)
    if "origin" in values:
        _check_origin(values["origin"], problems)
    if values.get("platform", "mqtt") not in ("mqtt", platform):
        problems.append(f"platform must be 'mqtt' or {platform!r}, got {values['platform']!r}")
    if "object_id" in values:
        problems.append(
            "'object_id' is deprecated (stops working in HA 2026.4),"
            f" use 'default_entity_id': '{platform}.<object_id>'"
        )
    entity_id = values.get("default_entity_id")
    if isinstance(entity_id, str):
        domain, dot, object_id = entity_id.partition(".")
        if not dot or not object_id:
            problems.append(f"default_entity_id must be '{platform}.<object_id>'")
        elif domain != platform:
            problems.append(
                f"default_entity_id {entity_id!r} is not a {platform} id (HA ignores the domain)"
            )
    if platform == "sensor":
        _check_sensor(values, problems)
    return problems
