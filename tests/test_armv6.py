"""armhf/check-armv6: the agent on an emulated Pi Zero CPU publishes a valid state."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "armhf" / "check-armv6"
TOOLS = ("debootstrap", "qemu-arm-static", "mosquitto", "mosquitto_sub")


def test_agent_runs_on_armv6_and_reaches_the_broker() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing or os.geteuid() != 0:
        why = f"needs root and {', '.join(missing)}" if missing else "needs root"
        if os.environ.get("SWARMGAUGE_REQUIRE_DOCKER") == "1":  # CI has all of it
            pytest.fail(f"armhf/check-armv6 cannot run: {why}")
        pytest.skip(f"armhf/check-armv6 {why}")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    started = time.monotonic()
    result = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=900)
    print(f"\narmhf/check-armv6 took {time.monotonic() - started:.0f} s")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "machine: armv6l" in result.stdout
    assert "snapshot: valid (node.schema.json)" in result.stdout
