"""Container health: `python3 -m agent.health` exits 0 while the process beats.

The agent (and the gauge) touch SWARMGAUGE_HEARTBEAT_FILE after every round of
work; a file older than three intervals (at least 30 s) means the loop is stuck.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def beating(path: Path, interval_s: float, now: float | None = None) -> tuple[bool, str]:
    try:
        age = (now if now is not None else time.time()) - path.stat().st_mtime
    except OSError:
        return False, f"no heartbeat at {path}"
    limit = max(30.0, 3 * interval_s)
    if age > limit:
        return False, f"last heartbeat {age:.0f} s ago (limit {limit:.0f} s): stuck"
    return True, f"last heartbeat {age:.1f} s ago"


def main() -> int:
    path = os.environ.get("SWARMGAUGE_HEARTBEAT_FILE")
    if not path:
        print("SWARMGAUGE_HEARTBEAT_FILE is not set: nothing to check", file=sys.stderr)
        return 1
    try:
        interval_s = float(os.environ.get("SWARMGAUGE_INTERVAL") or 5)
    except ValueError:
        interval_s = 5.0
    ok, why = beating(Path(path), interval_s)
    print(why)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
