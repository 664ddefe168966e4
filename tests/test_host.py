"""HostSampler against the real psutil, and its temperature sources."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil

from agent.docker.readings import SwarmReading
from agent.host import HostSampler
from agent.snapshot import node_snapshot
from agent.strain import Strain
from tests.helpers import validate


def test_reads_real_host_in_range(tmp_path: Path) -> None:
    r = HostSampler(thermal_path=tmp_path / "absent").read()
    assert 0.0 <= r.cpu_percent <= 100.0
    assert r.load_1m >= 0.0
    assert r.cpu_count == psutil.cpu_count()
    assert 0.0 < r.memory_percent <= 100.0


def test_first_reading_is_primed_not_a_meaningless_zero() -> None:
    sampler = HostSampler()
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # burn CPU between construction and read
        pass
    assert sampler.read().cpu_percent > 5.0


def fake_psutil(sensors: dict[str, list[Any]] | None) -> SimpleNamespace:
    """psutil's calls with fixed answers; sensors None: a platform without sensors."""
    ps = SimpleNamespace(
        cpu_count=lambda: 1,
        cpu_percent=lambda _interval: 12.5,
        getloadavg=lambda: (0.42, 0.3, 0.2),
        virtual_memory=lambda: SimpleNamespace(percent=33.3),
    )
    if sensors is not None:
        ps.sensors_temperatures = lambda: sensors
    return ps


def _reading(sensors: dict[str, list[Any]] | None, thermal: Path) -> Any:
    return HostSampler(ps=fake_psutil(sensors), thermal_path=thermal).read()


def test_temperature_prefers_the_pi_soc_sensor(tmp_path: Path) -> None:
    sensors = {
        "acpitz": [SimpleNamespace(current=30.0)],
        "cpu_thermal": [SimpleNamespace(current=48.34)],
    }
    assert _reading(sensors, tmp_path / "absent").temperature_c == 48.3


def test_temperature_falls_back_to_thermal_zone(tmp_path: Path) -> None:
    zone = tmp_path / "temp"
    zone.write_text("51234\n")
    assert _reading({}, zone).temperature_c == 51.2


def test_temperature_without_psutil_sensors_reads_thermal_zone(tmp_path: Path) -> None:
    zone = tmp_path / "temp"
    zone.write_text("47000\n")
    assert _reading(None, zone).temperature_c == 47.0


def test_temperature_is_null_where_nothing_says(tmp_path: Path) -> None:
    reading = _reading({}, tmp_path / "absent")
    assert reading.temperature_c is None
    assert (reading.cpu_percent, reading.load_1m, reading.memory_percent) == (12.5, 0.42, 33.3)


def test_throttled_flags_from_the_firmware_file(tmp_path: Path) -> None:
    """A Pi Zero on a weak supply: under-voltage and throttled now, and since boot also
    capped; the file as the Pi's firmware driver writes it (hex, no 0x)."""
    flags = tmp_path / "get_throttled"
    flags.write_text("70005\n")
    sampler = HostSampler(thermal_path=tmp_path / "absent", throttled_path=flags)
    throttled = sampler.read().throttled
    assert throttled == {
        "bits": 0x70005,
        "now": ["under_voltage", "throttled"],
        "since_boot": ["under_voltage", "frequency_capped", "throttled"],
    }
    state = node_state_of(sampler)
    assert state["host"]["throttled"] == throttled
    flags.write_text("0\n")
    assert sampler.read().throttled == {"bits": 0, "now": [], "since_boot": []}


def test_throttled_is_null_off_a_pi_and_for_garbage(tmp_path: Path) -> None:
    assert HostSampler(throttled_path=tmp_path / "absent").read().throttled is None
    assert (
        node_state_of(HostSampler(throttled_path=tmp_path / "absent"))["host"]["throttled"] is None
    )
    for text in ("", "zz", "-5", "1" * 40, "throttled=0x50000"):
        (tmp_path / "f").write_text(text)
        got = HostSampler(throttled_path=tmp_path / "f").read().throttled
        assert got == ({"bits": 0x50000, "now": [], "since_boot": ["under_voltage", "throttled"]}
                       if text.startswith("throttled=") else None), text  # fmt: skip


def node_state_of(sampler: HostSampler) -> dict[str, Any]:
    """The node state the agent would publish with this host reading (schema-checked)."""
    state = node_snapshot(
        node="pi",
        now=datetime.now(UTC),
        host=sampler.read(),
        swarm=SwarmReading(ok=False, error="Docker disabled"),
        strain=Strain(0.1, 0.1, 0.1, 0.0),
        interval_s=5,
    )
    validate("node", state)
    return state
