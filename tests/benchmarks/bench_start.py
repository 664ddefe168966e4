"""How soon a task start shows: container start → the new state at a subscriber, and →
the new LED frame on the (fake sysfs) GPIO; and the agent's start-up to its first state.

    .venv/bin/python -m tests.benchmarks.bench_start [STARTS]   (root; default 20)

The agent runs at a 60 s interval, so what shows a start is its Docker event follower,
not a timer. A one-task service is scaled 0 → 1 → 0 for each start; the start time is
dockerd's own (the event's timeNano).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.rows import row
from tests.fake_hardware import make_sysfs_tree
from tests.helpers import AGENT, clean_env
from tests.mqtt_watch import Watcher
from tests.peers.broker import Broker
from tests.peers.dockerd import Dockerd, create_service, scale_service, wait_for_running

TARGET_MS = 250.0
STATE = "swarmgauge/node/bench/state"


class Starts:
    """dockerd's start events for task containers, by time (seconds since the epoch)."""

    def __init__(self, client: Any) -> None:
        self.times: list[float] = []
        self._stream = client.api.events(
            decode=True, filters={"type": "container", "event": "start"}
        )
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self) -> None:
        try:
            for event in self._stream:
                self.times.append(event["timeNano"] / 1e9)
        except Exception:
            pass  # closed

    def close(self) -> None:
        self._stream.close()


def frame_times(value_file: Path, stop: threading.Event, out: list[float]) -> None:
    """When the LED data pin's value file grew: a frame was written (1 ms polling)."""
    size = value_file.stat().st_size
    while not stop.is_set():
        now = value_file.stat().st_size
        if now != size:
            out.append(time.time())
            size = now
        time.sleep(0.001)


def percentile_95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def main() -> int:
    starts = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    work = Path(tempfile.mkdtemp(prefix="sg-start-"))
    root = make_sysfs_tree(work)
    value_file = root / "gpio535" / "value"
    with Dockerd() as daemon, Broker(work) as broker:
        create_service(daemon.client, "one", ["sleep", "3600"], replicas=0)
        with Watcher(broker.host, broker.port, STATE, "bench-start") as watch:
            launched_at = time.time()
            agent = subprocess.Popen(
                [*AGENT, "--interval", "60", "--broker", broker.url, "--node-name", "bench",
                 "--docker-host", daemon.base_url, "--display", "sysfs", "--sysfs-gpio",
                 str(root), "--led-mode", "tasks", "--no-discovery"],
                env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                first = watch.wait_for(lambda m: m.topic == STATE, 60)
                if first is None:
                    raise SystemExit("no state from the agent")
                startup_s = first.at - launched_at
                time.sleep(2)  # past its start-up
                events = Starts(daemon.client)
                frames: list[float] = []
                stop = threading.Event()
                poller = threading.Thread(target=frame_times, args=(value_file, stop, frames))
                poller.start()
                to_state, to_frame = [], []
                for _ in range(starts):
                    seen, n_frames, n_events = len(watch.messages), len(frames), len(events.times)
                    scale_service(daemon.client, "one", 1)
                    state = watch.wait_for(lambda m: m.json()["tasks"]["running"] == 1, 30, seen)
                    if state is None or not wait_for_running(daemon.client, "one", 1, 30):
                        raise SystemExit("the task did not start, or no state said so")
                    time.sleep(0.3)  # the frame poller and the event follower catch up
                    started_at = next(t for t in events.times[n_events:])
                    to_state.append((state.at - started_at) * 1000)
                    if len(frames) > n_frames:
                        to_frame.append((frames[n_frames] - started_at) * 1000)
                    seen = len(watch.messages)
                    scale_service(daemon.client, "one", 0)
                    if not watch.wait_for(lambda m: m.json()["tasks"]["running"] == 0, 30, seen):
                        raise SystemExit("no state after the task stopped")
                stop.set()
                poller.join()
                events.close()
            finally:
                agent.terminate()
                agent.wait(timeout=10)
    median = statistics.median(to_state)
    row(f"container start → state at a subscriber (median of {len(to_state)})",
        f"{median:.0f} ms", f"≤ {TARGET_MS:g} ms", median / TARGET_MS)  # fmt: skip
    row("container start → state at a subscriber (p95)", f"{percentile_95(to_state):.0f} ms")
    if to_frame:
        row(f"container start → LED frame on the GPIO (median of {len(to_frame)})",
            f"{statistics.median(to_frame):.0f} ms")  # fmt: skip
        row("container start → LED frame on the GPIO (p95)", f"{percentile_95(to_frame):.0f} ms")
    row("agent start-up → first state at a subscriber", f"{startup_s * 1000:.0f} ms")
    return 0 if median <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
