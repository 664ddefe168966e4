"""The session-end check for processes the tests left behind can see one."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.leftovers import leftovers


def test_a_detached_process_left_behind_is_found() -> None:
    since = time.time()
    # a grandchild re-parented to init, as a process started through a shell's `&` was
    launcher = subprocess.run(
        [sys.executable, "-c",
         "import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', "
         "'import time; time.sleep(30)', '-m agent --marker'], start_new_session=True, "
         "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
         "print(p.pid)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    pid = int(launcher.stdout)
    try:
        found = leftovers(since, {os.getpid()})
        assert pid in found and "-m agent" in found[pid]
        assert os.getpid() not in found
    finally:
        os.kill(pid, 9)
    time.sleep(0.2)
    assert pid not in leftovers(since, {os.getpid()})
