"""LED budget (issue 4): GPIO writes per frame, writes per minute when idle, CPU per frame.

    .venv/bin/python -m tests.benchmarks.bench_display [IDLE_SECONDS]   (default 60)

Off a Pi: the sysfs backend writes a temp tree on the disk (real sysfs writes cost
more per call) and blinkt drives the recording RPi.GPIO from tests/fakes. The idle
part runs the real agent loop (host sampling, Docker off, no broker) on the sysfs
tree at a 1 s interval and counts the frames it writes.
"""

from __future__ import annotations

import importlib
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from agent.display.sysfs import SysfsDisplay
from agent.frames import strain_frame
from agent.runner import Agent
from agent.settings.config import load_agent_config
from tests.benchmarks.rows import row
from tests.fake_hardware import FAKES, make_sysfs_tree

FRAMES = [strain_frame(s / 16, 0.1) for s in range(16)]


def cpu_ms_per_frame(display: object) -> tuple[float, float]:
    cpu, wall = [], []
    for frame in FRAMES * 4:
        display.clear()  # type: ignore[attr-defined]
        c, w = time.thread_time(), time.perf_counter()
        display.show(frame)  # type: ignore[attr-defined]
        cpu.append((time.thread_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def main() -> int:
    idle_s = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    work = Path(tempfile.mkdtemp(prefix="sg-leds-"))

    root = make_sysfs_tree(work / "a")
    sysfs = SysfsDisplay(root)
    value = root / "gpio535" / "value"
    before = value.stat().st_size
    sysfs.show(strain_frame(1.0, 0.1))
    data_writes = value.stat().st_size - before
    print(f"sysfs:  {data_writes * 3} GPIO writes per frame ({data_writes} bits: data, clock ↑ ↓)")
    cpu, wall = cpu_ms_per_frame(sysfs)
    print(f"        {cpu:.2f} ms CPU, {wall:.2f} ms wall per frame (median)")
    sysfs.close()

    sys.path.insert(0, str(FAKES))
    gpio = importlib.import_module("RPi.GPIO")
    from agent.display.blinkt_display import BlinktDisplay

    blinkt = BlinktDisplay()
    blinkt.show(strain_frame(0.5, 0.1))
    n = len(gpio.events)
    blinkt.show(strain_frame(1.0, 0.1))
    print(f"blinkt: {len(gpio.events) - n} GPIO writes per frame (Pimoroni's library)")
    cpu, wall = cpu_ms_per_frame(blinkt)
    print(
        f"        {cpu:.2f} ms CPU, {wall:.2f} ms wall per frame (median; it sleeps per clock edge)"
    )

    root = make_sysfs_tree(work / "b")
    display = SysfsDisplay(root)
    config = load_agent_config(["--broker", "none", "--docker-host", "none", "--interval", "1"], {})
    agent = Agent(config, display)
    loop = threading.Thread(target=agent.loop, daemon=True)
    loop.start()
    time.sleep(3)  # the first frame
    frames0 = display.frames_written
    size0 = (root / "gpio535" / "value").stat().st_size
    time.sleep(idle_s)
    frames = display.frames_written - frames0
    writes = ((root / "gpio535" / "value").stat().st_size - size0) * 3
    agent.shutdown()
    per_min = writes * 60 / idle_s
    verdict = "ok" if writes == 0 else "OVER"
    print(f"idle node, {idle_s:.0f} s at 1 s: {frames} frames, {per_min:.0f} GPIO writes/min")
    print(f"  target 0: {verdict}")
    row("GPIO writes a minute on an idle node", f"{per_min:.0f}", "0")
    return 0 if writes == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
