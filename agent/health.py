"""Container health: `python3 -m agent.health` exits 0 while the process beats.

The agent, the gauge and swarmgauge-load touch SWARMGAUGE_HEARTBEAT_FILE after every
round of work; the file's text is how long they may stay quiet (see agent.shared.heartbeat).
An older file means the loop is stuck. A file without a limit (an older agent) falls
back to three SWARMGAUGE_INTERVALs, at least 30 s.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

from agent.shared.heartbeat import DEFAULT_INTERVAL_S, stuck_after

MAX_LIMIT_S = 3 * 3600.0  # three of the longest interval


def written_limit(path: Path) -> float | None:
    """The limit in the file, or None when it holds none that makes sense."""
    try:
        with path.open("rb") as f:
            text = f.read(32)
        limit = float(text.decode("ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return limit if math.isfinite(limit) and 1.0 <= limit <= MAX_LIMIT_S else None


def beating(path: Path, interval_s: float, now: float | None = None) -> tuple[bool, str]:
    try:
        age = (now if now is not None else time.time()) - path.stat().st_mtime
    except OSError:
        return False, f"no heartbeat at {path}"
    limit = written_limit(path) or stuck_after(interval_s)
    if age > limit:
        return False, f"last heartbeat {age:.0f} s ago (limit {limit:.0f} s): stuck"
    return True, f"last heartbeat {age:.1f} s ago (limit {limit:.0f} s)"


def main() -> int:
    path = os.environ.get("SWARMGAUGE_HEARTBEAT_FILE")
    if not path:
        print("SWARMGAUGE_HEARTBEAT_FILE is not set: nothing to check", file=sys.stderr)
        return 1
    try:
        interval_s = float(os.environ.get("SWARMGAUGE_INTERVAL") or DEFAULT_INTERVAL_S)
    except ValueError:
        interval_s = DEFAULT_INTERVAL_S
    ok, why = beating(Path(path), interval_s)
    print(why)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
