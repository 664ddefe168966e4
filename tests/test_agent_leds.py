"""The running agent and its LEDs: frames follow samples, unchanged ones are not
rewritten, and the LEDs go dark on SIGTERM."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path

from agent.display.sysfs import SysfsDisplay
from agent.docker.readings import SwarmReading
from agent.host import HostReading
from agent.runner import Agent
from agent.sample import Sample
from agent.settings.config import load_agent_config
from agent.strain import node_strain
from tests.apa102_decode import bits_from_gpio, frames_from_bits
from tests.fake_hardware import FAKES, make_sysfs_tree, sysfs_frames
from tests.helpers import AgentProcess, clean_env, json_lines, run_agent
from tests.peers.net import wait_until


def idle_sample() -> Sample:
    host = HostReading(
        cpu_percent=3.0, load_1m=0.1, cpu_count=1, memory_percent=41.0, temperature_c=45.0
    )
    swarm = SwarmReading(ok=True, role="worker", tasks_by_service={"web": 1})
    return Sample(datetime.now(UTC), host, swarm, node_strain(3.0, 41.0, 1, 8))


def test_hundred_unchanged_samples_write_one_frame(tmp_path: Path) -> None:
    root = make_sysfs_tree(tmp_path)
    config = load_agent_config(["--broker", "none", "--docker-host", "none"], {})
    display = SysfsDisplay(root)
    agent = Agent(config, display)
    for _ in range(100):
        agent.step(idle_sample())
    assert display.frames_written == 1
    (frame,) = sysfs_frames(root, 512)
    assert [p[:3] for p in frame[:4]] == [(0, 255, 0)] * 3 + [(0, 64, 0)]  # 41 % = 3.28 pixels
    agent.shutdown()
    assert sysfs_frames(root, 512)[-1] == [(0, 0, 0, 0)] * 8


def test_sigterm_leaves_the_leds_dark(tmp_path: Path) -> None:
    log = tmp_path / "gpio.log"
    env = clean_env(PYTHONPATH=str(FAKES), FAKE_GPIO_LOG=str(log))
    args = [
        "--display",
        "blinkt",
        "--gpiomem",
        "/dev/null",
        "--docker-host",
        "none",
        "--broker",
        "none",
        "--interval",
        "0.2",
        "--brightness",
        "0.5",
    ]
    agent = AgentProcess(args, tmp_path / "agent.log", env=env).start()
    try:

        def frames() -> list[list[tuple[int, int, int, int]]]:
            events = [tuple(map(int, line.split())) for line in log.read_text().splitlines()]
            return frames_from_bits(bits_from_gpio(events, 23, 24))  # type: ignore[arg-type]

        # Docker is off, so at least the blue sign is lit
        assert wait_until(lambda: log.exists() and frames(), 15), agent.log()
        assert any(p != (0, 0, 0, 0) for p in frames()[0])
        agent.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        assert agent.proc.wait(timeout=5) == 0  # type: ignore[union-attr]
    finally:
        agent.stop()
    last = frames()[-1]
    assert last == [(0, 0, 0, 0)] * 8, agent.log()
    assert "Traceback" not in agent.log()


def test_once_with_a_display_shows_the_frame_and_keeps_it(tmp_path: Path) -> None:
    """A participant trying the Blinkt with --once sees their strain: the frame is
    written, not cleared after, carried in `leds`, and stderr says so in one line."""
    root = make_sysfs_tree(tmp_path)
    args = ["--once", "--display", "sysfs", "--sysfs-gpio", str(root), "--docker-host", "none"]
    result = run_agent([*args, "--brightness", "0.5"])
    assert result.returncode == 0, result.stderr
    (node_state,) = json_lines(result.stdout)
    frames = sysfs_frames(root, 512)
    assert len(frames) == 1  # shown, and no dark frame after it
    assert [list(p[:3]) for p in node_state["leds"]] == [list(p[:3]) for p in frames[0]]
    assert any(p[:3] != (0, 0, 0) for p in frames[0])
    said = [line for line in result.stderr.splitlines() if "keeps it after exit" in line]
    assert len(said) == 1 and "--brightness 0" in said[0], result.stderr

    dark = run_agent([*args, "--brightness", "0"])  # the way to turn it off, as it says
    assert dark.returncode == 0, dark.stderr
    assert all(p[3] == 0 for p in sysfs_frames(root, 512)[-1])


def test_once_without_a_named_display_drives_none(tmp_path: Path) -> None:
    root = make_sysfs_tree(tmp_path)
    result = run_agent(["--once", "--sysfs-gpio", str(root), "--docker-host", "none"])
    assert result.returncode == 0, result.stderr
    (node_state,) = json_lines(result.stdout)
    assert "leds" not in node_state
    assert (root / "gpio535" / "value").read_text() == ""  # auto drives no LEDs with --once
    bad = run_agent(["--once", "--display", "blinkt", "--gpiomem", str(tmp_path / "no")])
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "--display blinkt" in bad.stderr, bad.stderr
