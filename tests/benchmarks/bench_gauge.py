"""Gauge budget (issue 5): 1,000 nodes each publishing once a second through a real broker.

    .venv/bin/python -m tests.benchmarks.bench_gauge [SECONDS] [NODES]   (defaults 60, 1000)

A simulator process publishes every node's state (QoS 1, as the agents do) once a
second through mosquitto; the gauge follows them with its web view on. Prints the
gauge's CPU share (target ≤ 10 % of one core), peak RSS and CPU per message; the
same run with --no-metrics (issue 14: /metrics costs nothing between scrapes, within
10 %), and one scrape of /metrics at that size, timed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.benchmarks.proc_stats import cpu_s, peak_rss_mib
from tests.benchmarks.rows import row
from tests.helpers import clean_env
from tests.peers.broker import Broker
from tests.peers.net import free_port, wait_for_port

TARGET = 0.10
METRICS_MARGIN = 0.10  # /metrics may cost at most 10 % more while nobody scrapes

SIMULATOR = r"""
import sys, time, json
import paho.mqtt.client as mqtt
from tests.test_gauge import node_payload
url_port, nodes, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
payloads = [(f"swarmgauge/node/sim-{i}/state", node_payload(f"sim-{i}", (i % 100) / 100))
            for i in range(nodes)]
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="simulator")
c.max_inflight_messages_set(1000)
c.connect("127.0.0.1", url_port)
c.loop_start()
sent, start = 0, time.monotonic()
while time.monotonic() - start < seconds:
    tick = time.monotonic()
    for topic, payload in payloads:
        c.publish(topic, payload, qos=1, retain=True)
        sent += 1
    time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
time.sleep(1)
c.loop_stop()
print(sent, time.monotonic() - start)
"""


class Run:
    """One gauge process followed by the simulator's nodes for `seconds`."""

    def __init__(self, broker: Broker, nodes: int, seconds: float, *flags: str) -> None:
        self.port = free_port()
        self.gauge = subprocess.Popen(
            [sys.executable, "-m", "gauge", "--broker", broker.url,
             "--http", f"127.0.0.1:{self.port}", "--log-level", "warning", *flags],
            env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        if not wait_for_port(self.port, 15):
            self.close()
            raise SystemExit("the gauge did not start")
        time.sleep(1)
        c0 = cpu_s(self.gauge.pid)
        sim = subprocess.run(
            [sys.executable, "-c", SIMULATOR, str(broker.port), str(nodes), str(seconds)],
            env=clean_env(PYTHONPATH=str(Path.cwd())),
            capture_output=True,
            text=True,
        )
        self.used = cpu_s(self.gauge.pid) - c0
        if sim.returncode != 0:
            self.close()
            raise SystemExit(sim.stderr[-2000:])
        self.sent, self.span = int(sim.stdout.split()[0]), float(sim.stdout.split()[1])
        self.seen = len(json.loads(self.get("/api/cluster"))["nodes"])
        self.rss = peak_rss_mib(self.gauge.pid)

    @property
    def share(self) -> float:
        return self.used / self.span

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as r:
            return bytes(r.read())

    def close(self) -> None:
        self.gauge.terminate()
        self.gauge.wait(timeout=10)


def main() -> int:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    nodes = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    work = Path(tempfile.mkdtemp(prefix="sg-gauge-"))
    # the defaults would refuse a burst of 1,000 QoS 1 messages from one client
    extra = "max_inflight_messages 0\nmax_queued_messages 100000\n"
    with Broker(work, extra_config=extra) as broker:
        without = Run(broker, nodes, seconds, "--no-metrics")
        without.close()
        run = Run(broker, nodes, seconds)  # /metrics on, nobody scraping
        try:
            scrapes = []
            for _ in range(10):
                c0, t0 = cpu_s(run.gauge.pid), time.perf_counter()
                text = run.get("/metrics")
                scrapes.append((time.perf_counter() - t0, cpu_s(run.gauge.pid) - c0))
        finally:
            run.close()
    share, sent, seen, rss = run.share, run.sent, run.seen, run.rss
    print(
        f"{nodes} nodes × 1 state/s for {run.span:.0f} s: {sent} messages, gauge sees {seen} nodes"
    )
    print(
        f"gauge CPU {share * 100:.2f} % of one core (target ≤ {TARGET * 100:.0f} %): "
        f"{'ok' if share <= TARGET else 'OVER'}"
    )
    print(f"gauge peak RSS {rss:.1f} MiB; CPU per message {run.used / sent * 1e6:.1f} µs")
    cost = share / without.share
    print(
        f"with /metrics (not scraped) vs --no-metrics: {share * 100:.2f} % vs "
        f"{without.share * 100:.2f} %, × {cost:.2f} (target ≤ × {1 + METRICS_MARGIN:.2f})"
    )
    wall = sorted(w for w, _ in scrapes)[len(scrapes) // 2]
    cpu = sum(c for _, c in scrapes) / len(scrapes)  # CPU time comes in 10 ms ticks
    print(f"one scrape of /metrics at {nodes} nodes: {wall * 1e3:.0f} ms "
          f"(CPU {cpu * 1e3:.0f} ms on average), {len(text) / 1024:.0f} KiB, "
          f"median of {len(scrapes)}")  # fmt: skip
    row(f"gauge CPU, {nodes} nodes × 1 msg/s (% of a core)", f"{share * 100:.2f} %",
        f"≤ {TARGET * 100:.0f} %", share / TARGET)  # fmt: skip
    row(f"gauge peak RSS, {nodes} nodes", f"{rss:.1f} MiB")
    row("gauge CPU per message", f"{run.used / sent * 1e6:.1f} µs")
    limit = 1 + METRICS_MARGIN
    row(f"gauge CPU with /metrics ÷ without, {nodes} nodes (not scraped)", f"× {cost:.2f}",
        f"≤ × {limit:.2f}", cost / limit)  # fmt: skip
    row(f"one /metrics scrape, {nodes} nodes", f"{wall * 1e3:.0f} ms, {len(text) / 1024:.0f} KiB")
    ok = share <= TARGET and seen == nodes and cost <= limit
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
