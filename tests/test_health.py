"""The heartbeat and the container healthcheck that reads it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from agent.health import beating
from agent.heartbeat import Heartbeat


def test_heartbeat_is_fresh_then_stale(tmp_path: Path) -> None:
    path = tmp_path / "beat"
    assert beating(path, 5)[0] is False  # none yet
    Heartbeat(str(path)).beat()
    assert beating(path, 5)[0] is True
    assert beating(path, 5, now=time.time() + 29)[0] is True  # at least 30 s of grace
    ok, why = beating(path, 5, now=time.time() + 31)
    assert not ok and "stuck" in why
    assert beating(path, 60, now=time.time() + 170)[0] is True  # three intervals


def test_heartbeat_without_a_path_does_nothing(tmp_path: Path) -> None:
    Heartbeat(None).beat()
    Heartbeat(str(tmp_path / "no" / "dir" / "beat")).beat()  # unwritable: warned, no raise


def test_health_command(tmp_path: Path) -> None:
    path = tmp_path / "beat"
    env = {**os.environ, "SWARMGAUGE_HEARTBEAT_FILE": str(path), "SWARMGAUGE_INTERVAL": "1"}
    check = [sys.executable, "-m", "agent.health"]
    assert subprocess.run(check, env=env, capture_output=True).returncode == 1
    path.touch()
    assert subprocess.run(check, env=env, capture_output=True).returncode == 0
    os.utime(path, (time.time() - 60, time.time() - 60))
    assert subprocess.run(check, env=env, capture_output=True).returncode == 1
