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
from tests.helpers import AgentProcess, clean_env
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
