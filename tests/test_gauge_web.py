"""The gauge's web server as the room's network meets it: slow and half-sent requests,
too many pages, other Host names, and the headers a browser needs to stay safe."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import clean_env
from tests.peers.net import free_port, wait_for_port


@pytest.fixture
def gauge(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port = free_port()
    log = tmp_path / "gauge.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gauge", "--broker", "none", "--http", f"127.0.0.1:{port}"],
            env=clean_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_for_port(port, 15)
        yield port, log
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def get(port: int, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if host is not None:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_headers_keep_the_page_safe_and_say_no_version(gauge: tuple[int, Path]) -> None:
    port, _ = gauge
    status, headers, _ = get(port, "/")
    assert status == 200
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'sha256-" in csp and "unsafe-inline" not in csp
    assert headers["Server"] == "swarmgauge"  # no Python version
    assert get(port, "/api/cluster")[1]["X-Content-Type-Options"] == "nosniff"


def test_other_host_names_are_refused_on_loopback(gauge: tuple[int, Path]) -> None:
    """DNS rebinding: a page on attacker.example whose name now points at 127.0.0.1."""
    port, _ = gauge
    assert get(port, "/api/cluster", host=f"attacker.example:{port}")[0] == 421
    assert get(port, "/api/cluster", host=f"localhost:{port}")[0] == 200
    assert get(port, "/api/cluster")[0] == 200  # 127.0.0.1:port


def test_half_sent_requests_cannot_stall_it(gauge: tuple[int, Path]) -> None:
    port, log = gauge
    held: list[socket.socket] = []
    tried = 0
    try:
        for _ in range(5000):
            tried += 1
            try:  # a full accept queue drops SYNs: do not wait for the retry
                s = socket.create_connection(("127.0.0.1", port), timeout=0.2)
                s.sendall(b"GET /api/cl")  # and never the rest
                held.append(s)
            except OSError:
                continue  # refused, reset or queued out: the server keeps itself free
    finally:
        for s in held:
            s.close()
    started = time.monotonic()
    status, _, body = get(port, "/api/cluster")
    took = time.monotonic() - started
    print(
        f"\n{tried} half-sent requests ({len(held)} connected); /api/cluster then in {took:.3f} s"
    )
    assert status == 200 and body.startswith(b"{") and took < 1.0
    time.sleep(0.5)
    assert "Traceback" not in log.read_text()


def test_live_pages_are_capped(gauge: tuple[int, Path]) -> None:
    port, _ = gauge
    streams = []
    try:
        for _ in range(32):
            streams.append(urllib.request.urlopen(f"http://127.0.0.1:{port}/events", timeout=5))
            assert streams[-1].readline() == b"retry: 2000\n"
        assert get(port, "/events")[0] == 503
        assert get(port, "/api/cluster")[0] == 200  # the API still answers
    finally:
        for s in streams:
            s.close()
    time.sleep(0.5)
    status, _, _ = get(port, "/api/cluster")
    assert status == 200
