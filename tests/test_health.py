"""The heartbeat and the container healthcheck that reads it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.health import beating
from agent.shared.heartbeat import Heartbeat, stuck_after


def test_heartbeat_is_fresh_then_stale(tmp_path: Path) -> None:
    path = tmp_path / "beat"
    assert beating(path, 5)[0] is False  # none yet
    Heartbeat(str(path)).beat()
    assert beating(path, 5)[0] is True
    assert beating(path, 5, now=time.time() + 29)[0] is True  # at least 30 s of grace
    ok, why = beating(path, 5, now=time.time() + 31)
    assert not ok and "stuck" in why
    path.write_text("")  # an older agent's file, no limit in it: three intervals
    assert beating(path, 60, now=time.time() + 170)[0] is True
    assert beating(path, 60, now=time.time() + 190)[0] is False


def test_heartbeat_without_a_path_does_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    Heartbeat(None).beat()
    assert list(tmp_path.iterdir()) == [] and caplog.records == []
    unwritable = tmp_path / "no" / "dir" / "beat"
    Heartbeat(str(unwritable)).beat()  # warned, no raise
    Heartbeat(str(unwritable)).beat()
    assert not unwritable.exists()
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) >= 1 and "cannot write heartbeat" in warnings[0].getMessage()


def test_health_command(tmp_path: Path) -> None:
    path = tmp_path / "beat"
    env = {**os.environ, "SWARMGAUGE_HEARTBEAT_FILE": str(path), "SWARMGAUGE_INTERVAL": "1"}
    check = [sys.executable, "-m", "agent.health"]
    assert subprocess.run(check, env=env, capture_output=True).returncode == 1
    path.touch()
    assert subprocess.run(check, env=env, capture_output=True).returncode == 0
    os.utime(path, (time.time() - 60, time.time() - 60))
    assert subprocess.run(check, env=env, capture_output=True).returncode == 1


def test_the_limit_travels_in_the_file(tmp_path: Path) -> None:
    """--interval 60 given as a flag: the healthcheck never sees it, the file tells it."""
    path = tmp_path / "beat"
    Heartbeat(str(path), stuck_after(60)).beat()
    assert path.read_text() == "180\n"
    assert beating(path, 5, now=time.time() + 40)[0] is True  # not the 30 s of interval 5
    ok, why = beating(path, 5, now=time.time() + 181)
    assert not ok and "limit 180 s" in why
    os.utime(path, (time.time() - 40, time.time() - 40))
    env = {**os.environ, "SWARMGAUGE_HEARTBEAT_FILE": str(path)}
    env.pop("SWARMGAUGE_INTERVAL", None)
    check = subprocess.run([sys.executable, "-m", "agent.health"], env=env, capture_output=True)
    assert check.returncode == 0, check.stdout


def test_later_beats_only_touch_the_file(tmp_path: Path) -> None:
    path = tmp_path / "beat"
    beat = Heartbeat(str(path), 45)
    beat.beat()
    os.utime(path, (1, 1))
    beat.beat()
    assert path.stat().st_mtime > time.time() - 5 and path.read_text() == "45\n"
    path.unlink()  # removed under a running loop: written again, limit and all
    beat.beat()
    assert path.read_text() == "45\n"


def test_nonsense_in_the_file_falls_back_to_three_intervals(tmp_path: Path) -> None:
    path = tmp_path / "beat"
    for text in ("", "abc", "nan", "inf", "0", "-5", "1e9", "\xff\xfe"):
        path.write_bytes(text.encode("latin-1"))
        assert beating(path, 20, now=time.time() + 59)[0] is True, text
        assert beating(path, 20, now=time.time() + 61)[0] is False, text
