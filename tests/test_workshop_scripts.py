"""The scripts the labs hand out: the load generator and the 20-line subscriber."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.leftovers import marked
from tests.peers.broker import Broker
from tests.peers.net import wait_until
from tests.test_gauge import Publisher

SUBSCRIBER = Path(__file__).resolve().parents[1] / "workshop" / "subscriber.py"
WORKSHOP = SUBSCRIBER.parent


def test_load_generator_burns_the_share_it_is_asked_for() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.load", "--cpu", "0.5", "--memory-mb", "20", "--seconds", "2"],
        stderr=subprocess.PIPE,
        text=True,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    cpu_s = usage.ru_utime + usage.ru_stime
    assert 0.6 <= cpu_s <= 1.6, f"{cpu_s:.2f} s of CPU for half a core over 2 s"
    assert usage.ru_maxrss >= 20 * 1024  # KiB: the 20 MiB is really held


def test_load_generator_stops_on_sigterm_and_checks_flags() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.load", "--cpu", "0.1"], stderr=subprocess.PIPE, text=True
    )
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=5) == 0
    bad = subprocess.run(
        [sys.executable, "-m", "agent.load", "--cpu", "1.5"], capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "swarmgauge-load: error: --cpu: must be from 0 to 1 (got '1.5')"


def test_subscriber_prints_each_node(broker: Broker, tmp_path: Path) -> None:
    nodes = Publisher(broker)
    out = tmp_path / "out.txt"
    with out.open("w") as f:
        sub = subprocess.Popen(
            [sys.executable, str(SUBSCRIBER), broker.host, str(broker.port)], stdout=f
        )
    try:
        nodes.state("pi-1", 0.42)
        nodes.state("pi-2", 0.9)
        assert wait_until(lambda: len(out.read_text().splitlines()) >= 2, 10), out.read_text()
        assert sorted(out.read_text().splitlines()) == [
            "pi-1: strain 42%, 1 tasks",
            "pi-2: strain 90%, 1 tasks",
        ]
    finally:
        sub.terminate()
        sub.wait(timeout=5)
        nodes.close()


def test_armhf_build_without_buildx_says_what_it_can_do() -> None:
    """Debian's docker.io has no buildx: a multi-platform build is refused with one line
    that says the classic-builder route (the single-platform build itself is the
    arm/v6 image test's)."""
    if subprocess.run(["docker", "buildx", "version"], capture_output=True).returncode == 0:
        pytest.skip("this docker has buildx")
    build = Path(__file__).resolve().parents[1] / "armhf" / "build"
    result = subprocess.run([str(build)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "no docker buildx" in result.stderr and "--load --platforms" in result.stderr


def test_passwords_gives_each_node_its_own_service_and_secret(tmp_path: Path) -> None:
    """workshop/passwords with odd and repeated names: one service and one secret per
    node kept, each secret that node's own password, no name twice; a re-run keeps
    every password and adds the new node's."""
    import yaml

    nodes = "pi-1 pi.3 pi_3 Pi-4 * gauge -x pi:5 pi-1 pi-6.local pi-6_local"
    env = marked(
        {"PATH": os.environ["PATH"], "SWARMGAUGE_SECRETS": str(tmp_path), "SWARMGAUGE_NODES": nodes}
    )
    made = subprocess.run(["sh", str(WORKSHOP / "passwords")], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert made.returncode == 0, made.stderr
    text = (tmp_path / "agents.yml").read_text()
    stack = yaml.safe_load(text)
    kept = ["pi-1", "pi.3", "Pi-4", "pi-6.local"]
    assert (
        sorted(stack["services"])
        == sorted(stack["secrets"])
        == sorted(f"agent-{n.replace('.', '-')}" for n in kept)
    )
    assert text.count("agent-pi-3:") == 2  # once a service, once a secret: never twice each
    lines = dict(line.split(":", 1) for line in (tmp_path / "agent_passwords").read_text().split())
    assert sorted(lines) == sorted(kept)
    for node in kept:
        secret = stack["secrets"][f"agent-{node.replace('.', '-')}"]["file"]
        assert Path(secret).read_text().strip() == lines[node]
        service = stack["services"][f"agent-{node.replace('.', '-')}"]
        assert service["deploy"]["placement"]["constraints"] == [f"node.hostname == {node}"]
    assert len(set(lines.values())) == len(lines)  # every node its own
    before = dict(lines)
    env["SWARMGAUGE_NODES"] = "pi-1 pi-7"
    again = subprocess.run(["sh", str(WORKSHOP / "passwords")], env=env, capture_output=True,
                           text=True, timeout=60)  # fmt: skip
    assert again.returncode == 0, again.stderr
    after = dict(line.split(":", 1) for line in (tmp_path / "agent_passwords").read_text().split())
    assert {k: after[k] for k in before} == before and "pi-7" in after


NEEDLE = WORKSHOP / "needle"


def needle(*args: str, timeout_s: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(NEEDLE), *args], capture_output=True, text=True, timeout=timeout_s
    )


def cluster_with_load(running: int, desired: int) -> bytes:
    """pi-1 leads: `load` with running of desired tasks, and one task of the gauge's own."""
    from datetime import UTC, datetime

    from agent.docker.readings import ClusterNode, ClusterReading, ClusterService
    from agent.snapshot import cluster_snapshot

    reading = ClusterReading(
        nodes=(
            ClusterNode(
                "id1", "pi-1", "manager", "ready", "active", True, running + 1, own_tasks=1
            ),
        ),
        services=(
            ClusterService("load", "replicated", desired, running),
            ClusterService("swarmgauge_gauge", "replicated", 1, 1, own=True),
        ),
    )
    now = datetime.now(UTC)
    return json.dumps(
        cluster_snapshot(now=now, cluster=reading, capacity=4, publisher="pi-1")
    ).encode()


def test_needle_says_what_the_gauge_shows(broker: Broker) -> None:
    from tests.test_gauge import api_until, node_payload, start_gauge

    nodes = Publisher(broker)
    app = start_gauge(broker)
    try:
        assert app.web is not None
        url = app.web.url
        first = needle("--url", url, "--once")
        assert first.returncode == 0
        assert first.stdout.split("  ", 1)[1] == "waiting for the first node…\n"

        nodes.send("swarmgauge/node/pi-1/state", node_payload("pi-1", 0.2, leader=True))
        nodes.send("swarmgauge/node/pi-1/cluster", cluster_with_load(1, 2))
        api_until(app, lambda c: c["desired"] == 3)
        line = needle("--url", url, "--once").stdout.split("  ", 1)[1]
        # the workload (the gauge's own task counted apart): half of it missing, 50 %
        assert line == "[##########..........]  50% amber  1 of 2 tasks running · load: 1 of 2\n"
        short = needle("--url", url, "--until-tasks", "2", "--timeout", "2")
        assert short.returncode == 1
        assert short.stderr == "needle: not 2 of 2 tasks running after 2 s\n"

        # the leader keeps speaking (its state is fresh for 3 intervals of 1 s) while
        # the needle waits for 2 of 2 to hold
        done = subprocess.Popen(
            [sys.executable, str(NEEDLE), "--url", url, "--until-tasks", "2", "--timeout", "20"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        while done.poll() is None:
            nodes.send("swarmgauge/node/pi-1/state", node_payload("pi-1", 0.95, leader=True))
            nodes.send("swarmgauge/node/pi-1/cluster", cluster_with_load(2, 2))
            time.sleep(0.5)
        stdout, stderr = done.communicate()
        assert done.returncode == 0, stderr
        last = stdout.splitlines()[-1].split("  ", 1)[1]
        assert last == (
            "[###################.]  95% red    2 of 2 tasks running · "
            "ALARM: strain 95% (the alarm is at 90%)"
        )
    finally:
        app.close()
        nodes.close()


def test_needle_says_in_one_line_when_the_gauge_is_gone_or_a_flag_is_bad() -> None:
    from tests.peers.net import free_port

    gone = needle("--url", f"http://127.0.0.1:{free_port()}", "--once")
    assert gone.returncode == 1
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d  gauge unreachable at http://127\.0\.0\.1:\d+: .*refused\n", gone.stdout
    )
    for bad in (["--every", "0"], ["--until-tasks", "-1"], ["--until-tasks", "x"]):
        result = needle(*bad)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.splitlines()[-1].startswith("workshop/needle: error: ")


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ({"nodes": [{}], "strain": float("nan"), "desired": None}, "not the gauge: a strain"),
        ({"nodes": [{}], "strain": 1e308, "desired": None}, "100% red"),
        ({"nodes": [{}], "strain": "x"}, "not the gauge: a strain"),
        ({"nodes": [{}], "strain": 0.5, "desired": 2, "running": "2"}, "not the gauge: a count"),
        ({"nodes": [{}], "strain": 0.5, "desired": None, "services": [1]}, "not the gauge"),
        ({"nodes": "all"}, "not the gauge: no nodes"),
        ([1, 2], "not the gauge: not an object"),
    ],
)
def test_needle_says_one_line_of_a_hostile_answer(answer: object, says: str) -> None:
    with json_server(answer) as url:
        result = needle("--url", url, "--once")
    assert result.returncode == (0 if "%" in says else 1) and result.stderr == ""
    assert len(result.stdout.splitlines()) == 1 and says in result.stdout, result.stdout


def test_needle_shows_no_terminal_escapes() -> None:
    answer = {
        "nodes": [{}],
        "strain": 0.95,
        "desired": None,
        "totals_unknown": "\x1b]0;owned\x07\x1b[2J",
        "alarm": True,
        "alarm_why": "\u202eALL CLEAR" + "x" * 500,
    }
    with json_server(answer) as url:
        result = needle("--url", url, "--once")
    assert result.returncode == 0
    assert (
        "\x1b" not in result.stdout
        and "\u202e" not in result.stdout
        and "\x07" not in result.stdout
    )
    assert "tasks unknown: ?]0;owned??[2J" in result.stdout and len(result.stdout) < 400


@contextlib.contextmanager
def json_server(answer: object) -> Iterator[str]:
    """A web server on loopback that answers every GET with answer as JSON."""
    body = json.dumps(answer).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
