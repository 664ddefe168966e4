"""Processes the tests start and must end: found by a mark they carry, and only by it.

A process the suite started and did not end outlives it re-parented to init (a qemu
running the agent was found 97 minutes after a run). So every process the suite
starts carries RUN_MARK in its environment, with this session's own value: set in
os.environ before the first test, it is inherited by every child and grandchild (an
environment built from scratch takes it from `marked`). At the end of a session the
processes whose environment (/proc/PID/environ) holds this session's mark are named,
the run fails, and then they are ended. Nothing else is touched: a broker, gauge or
stack someone runs beside the suite has no mark, or another session's.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

RUN_MARK = "SGTEST_RUN"  # not SWARMGAUGE_…: clean_env drops those, and this must stay


def new_run() -> str:
    """Mark every process this session starts from now on (and return the mark)."""
    run = f"{os.getpid()}-{time.time_ns()}"
    os.environ[RUN_MARK] = run
    return run


def marked(env: dict[str, str]) -> dict[str, str]:
    """env, with this session's mark (for an environment built from scratch)."""
    run = os.environ.get(RUN_MARK)
    return {**env, RUN_MARK: run} if run else env


def leftovers(run: str, exclude: set[int]) -> dict[int, str]:
    """pid -> command line of every process that carries the mark `run`, but for
    `exclude` (this process and its helpers). Processes of other users, which root
    alone may read, are not ours."""
    wanted = f"{RUN_MARK}={run}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in exclude:
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            if wanted not in environ:
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except (OSError, ValueError):
            continue  # gone meanwhile, a kernel thread, or not ours to read
        if cmdline:  # a zombie has none: its parent will reap it
            found[int(entry.name)] = cmdline[:200]
    return found
