"""HostSampler against the real /proc (and psutil, which reads the same), and its
temperature sources."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil

from agent.docker.readings import SwarmReading
from agent.host import HostSampler
from agent.host.proc import ProcStats, Temperature, host_stats
from agent.snapshot import node_snapshot
from agent.strain import Strain
from tests.helpers import validate


def test_reads_real_host_in_range(tmp_path: Path) -> None:
    r = HostSampler(thermal_path=tmp_path / "absent").read()
    assert 0.0 <= r.cpu_percent <= 100.0
    assert r.load_1m >= 0.0
    assert r.cpu_count == psutil.cpu_count()
    assert 0.0 < r.memory_percent <= 100.0


def test_proc_agrees_with_psutil_on_this_host() -> None:
    stats = ProcStats()
    assert isinstance(host_stats(), ProcStats)  # Linux: no psutil on the start-up path
    assert stats.cpu_count() == psutil.cpu_count()
    assert abs(stats.virtual_memory().percent - psutil.virtual_memory().percent) < 2.0
    stats.cpu_percent()
    psutil.cpu_percent(None)
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # one core busy: both see it
        pass
    mine, theirs = stats.cpu_percent(), psutil.cpu_percent(None)
    assert abs(mine - theirs) < 10.0, (mine, theirs)


def write_proc(root: Path, cpu: str, meminfo: str) -> None:
    (root / "stat").write_text(f"cpu  {cpu}\ncpu0 {cpu}\nintr 1 2 3\n")
    (root / "meminfo").write_text(meminfo)


MEMINFO = "MemTotal:         437592 kB\nMemFree:           50000 kB\nMemAvailable:     218796 kB\n"


def test_proc_cpu_and_memory_from_the_kernels_words(tmp_path: Path) -> None:
    """/proc/stat's jiffies: busy is all but idle and iowait (guest time is in user
    already); memory in use is total less available, as psutil counts them."""
    write_proc(tmp_path, "100 0 100 700 100 0 0 0 50 0", MEMINFO)
    stats = ProcStats(str(tmp_path))
    assert stats.cpu_percent() == 0.0  # no interval yet
    # +300 user (+30 of it guest), +100 system, +500 idle, +100 iowait: 400 busy of 1000
    write_proc(tmp_path, "400 0 200 1200 200 0 0 0 80 0", MEMINFO)
    assert stats.cpu_percent() == 40.0
    assert stats.cpu_percent() == 0.0  # nothing passed: not a division by zero
    # iowait going back (proc(5): it may) is no time, not busy time: +10 busy, +90 idle
    write_proc(tmp_path, "410 0 200 1290 120 0 0 0 80 0", MEMINFO)
    assert stats.cpu_percent() == 10.0
    assert stats.virtual_memory().percent == 50.0
    old_kernel = "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n"
    write_proc(tmp_path, "1 2 3 4", old_kernel + "Odd:\nHugePages_Total:       0\n")
    assert stats.virtual_memory().percent == 60.0
    # a container's lxcfs may say more is available than there is: none in use, not -20 %
    write_proc(tmp_path, "1 2 3 4", "MemTotal: 1000 kB\nMemAvailable: 1200 kB\n")
    assert stats.virtual_memory().percent == 0.0


def test_host_stats_from_proc_where_it_says_enough_else_psutil(tmp_path: Path) -> None:
    write_proc(tmp_path, "1 2 3 4", MEMINFO)
    assert isinstance(host_stats(str(tmp_path)), ProcStats)
    write_proc(tmp_path, "1 2 3 4", "MemFree: 100 kB\n")  # no MemTotal: not Linux's words
    assert host_stats(str(tmp_path)) is psutil
    assert host_stats(str(tmp_path / "none")) is psutil


def test_proc_temperatures_by_hwmon_sensor_name(tmp_path: Path) -> None:
    """psutil's sensors_temperatures from /sys/class/hwmon: the sampler prefers the Pi's
    SoC (cpu_thermal), then a PC's package sensor, over acpitz or a Wi-Fi chip."""
    write_proc(tmp_path, "1 2 3 4", MEMINFO)
    hwmon = tmp_path / "hwmon"
    for n, name, files in [(0, "acpitz", {"temp1_input": "27800"}),
                           (1, "coretemp", {"temp1_input": "51000", "temp2_input": "49000"}),
                           (2, "iwlwifi_1", {"temp1_input": "oops"}),
                           (3, "BAT0", {"in0_input": "12000"})]:  # fmt: skip
        folder = hwmon / f"hwmon{n}"
        folder.mkdir(parents=True)
        (folder / "name").write_text(name + "\n")
        for file, value in files.items():
            (folder / file).write_text(value + "\n")
    stats = ProcStats(str(tmp_path), hwmon=str(hwmon))
    assert stats.sensors_temperatures() == {
        "acpitz": [Temperature(27.8)],
        "coretemp": [Temperature(51.0)],
    }
    reading = HostSampler(ps=stats, thermal_path=tmp_path / "absent").read()
    assert reading.temperature_c == 51.0
    assert ProcStats(str(tmp_path), hwmon=str(tmp_path / "none")).sensors_temperatures() == {}


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
