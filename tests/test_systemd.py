"""The bare-metal units (workshop/systemd): systemd-analyze verify accepts them
exactly as shipped, and the agent unit's own command line and environment start an
agent against the test broker, driving the Blinkt (a recording RPi.GPIO)."""

from __future__ import annotations

import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.apa102_decode import bits_from_gpio, frames_from_bits
from tests.fake_hardware import FAKES
from tests.helpers import clean_env
from tests.mqtt_watch import Watcher, topic_is
from tests.peers.broker import Broker
from tests.peers.net import wait_until

UNITS = Path(__file__).parent.parent / "workshop" / "systemd"
PREFIX = "/opt/swarmgauge"  # where the README installs swarmgauge
SYSTEM_UNITS = Path("/usr/lib/systemd/system")
needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None or not SYSTEM_UNITS.is_dir(),
    reason="needs Debian's systemd package (systemd-analyze)",
)


def service(unit: Path) -> dict[str, list[str]]:
    """The [Service] section: every value of every key, in order."""
    found: dict[str, list[str]] = {}
    section = None
    for line in unit.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def installed_root(tmp_path: Path, units: dict[str, str]) -> Path:
    """A file-system root as the README's install leaves it: the units in
    /etc/systemd/system, the programs under PREFIX, systemd's own units."""
    root = tmp_path / "root"
    shutil.copytree(SYSTEM_UNITS, root / SYSTEM_UNITS.relative_to("/"), symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for name, text in units.items():
        (root / "etc/systemd/system" / name).write_text(text)
    bin_dir = root / PREFIX.lstrip("/") / "bin"
    bin_dir.mkdir(parents=True)
    for program in ("swarmgauge-agent", "swarmgauge-gauge"):
        shutil.copy2(Path(sys.executable).with_name(program), bin_dir / program)
    return root


def verify(root: Path, *names: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", *names],
        capture_output=True, text=True, timeout=60, cwd=root,
    )  # fmt: skip


SHIPPED = ("swarmgauge-agent.service", "swarmgauge-gauge.service")


@needs_systemd
def test_systemd_analyze_verify_accepts_both_units(tmp_path: Path) -> None:
    root = installed_root(tmp_path, {n: (UNITS / n).read_text() for n in SHIPPED})
    done = verify(root, *SHIPPED)
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), (
        done.stdout + done.stderr
    )


@needs_systemd
def test_verify_would_see_a_mistake(tmp_path: Path) -> None:
    text = (UNITS / SHIPPED[0]).read_text().replace("NoNewPrivileges=yes", "NoNewPrivilege=yes")
    done = verify(installed_root(tmp_path, {SHIPPED[0]: text}), SHIPPED[0])
    assert "Unknown key" in done.stderr, done.stderr


def test_both_units_run_unprivileged_restart_and_read_their_environment_file() -> None:
    for name in SHIPPED:
        unit = service(UNITS / name)
        assert unit["User"] == ["swarmgauge"] and unit["NoNewPrivileges"] == ["yes"], name
        assert unit["Restart"] == ["always"] and unit["RestartPreventExitStatus"] == ["2"], name
        (env_file,) = unit["EnvironmentFile"]
        assert env_file.startswith("-/etc/swarmgauge/"), name  # optional: defaults work
        # these would close /dev/gpiomem or the gpio group to the service
        for breaks_gpio in ("PrivateDevices", "DevicePolicy", "DeviceAllow", "ProtectClock",
                            "PrivateUsers"):  # fmt: skip
            assert breaks_gpio not in unit, (name, breaks_gpio)
    assert "SWARMGAUGE_DISPLAY=blinkt" in service(UNITS / SHIPPED[0])["Environment"][0].split()


def test_the_agent_units_command_line_starts_an_agent(broker: Broker, tmp_path: Path) -> None:
    """ExecStart and Environment= as systemd would run them (the install prefix mapped
    to this checkout's environment), the settings from an environment file."""
    unit = service(UNITS / "swarmgauge-agent.service")
    env = clean_env(PYTHONPATH=str(FAKES), FAKE_GPIO_LOG=str(tmp_path / "gpio.log"))
    for assignment in unit["Environment"]:
        env.update(a.split("=", 1) for a in shlex.split(assignment))  # type: ignore[misc]
    env_file = tmp_path / "agent.env"  # what /etc/swarmgauge/agent.env would hold
    env_file.write_text(
        f"# the workshop's broker\nSWARMGAUGE_BROKER={broker.url}\nSWARMGAUGE_NODE_NAME=bare-pi\n"
        "SWARMGAUGE_DOCKER_HOST=none\nSWARMGAUGE_GPIOMEM=/dev/null\nSWARMGAUGE_INTERVAL=1\n"
    )
    for line in env_file.read_text().splitlines():
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value
    (command,) = unit["ExecStart"]
    argv = shlex.split(command)
    assert argv[0].startswith(PREFIX + "/bin/")
    argv[0] = str(Path(sys.executable).with_name(Path(argv[0]).name))
    log = tmp_path / "agent.log"
    with Watcher(broker.host, broker.port, "swarmgauge/node/bare-pi/#", "w") as watch:
        with log.open("wb") as out:
            agent = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            state = watch.wait_for(topic_is("swarmgauge/node/bare-pi/state"), 15)
            assert state is not None, log.read_text()
            assert watch.wait_for(topic_is("swarmgauge/node/bare-pi/availability", b"online"), 5)

            def frames() -> list[list[tuple[int, int, int, int]]]:
                text = (tmp_path / "gpio.log").read_text()
                events = [tuple(map(int, line.split())) for line in text.splitlines()]
                return frames_from_bits(bits_from_gpio(events, 23, 24))  # type: ignore[arg-type]

            assert wait_until(lambda: (tmp_path / "gpio.log").exists() and frames(), 10)
            seen = len(watch.messages)
            agent.send_signal(signal.SIGTERM)  # what systemctl stop sends
            assert agent.wait(timeout=10) == 0  # inside TimeoutStopSec
            offline = topic_is("swarmgauge/node/bare-pi/availability", b"offline")
            assert watch.wait_for(offline, 5, seen)
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.wait()
    assert frames()[-1] == [(0, 0, 0, 0)] * 8  # LEDs dark after the stop
    assert "Traceback" not in log.read_text()
