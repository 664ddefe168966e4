"""agent.proxy as an attacker meets it: a recording upstream stands in for
Docker's socket and shows what got through. (tests/test_swarm.py runs the agent
through the proxy against the real test dockerd.)"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from agent.proxy.server import SocketProxy, upstream_request
from tests.peers.net import free_port, wait_until
from tests.peers.recording_upstream import RecordingUpstream


def filters(**values: list[str]) -> str:
    """filters=… as the agent's requests carry it (the SDK's JSON, URL-encoded)."""
    return urlencode({"filters": json.dumps({k.replace("_", "-"): v for k, v in values.items()})})


TASK = "com.docker.swarm.task.id"
CONTAINERS = filters(label=[TASK], status=["running"], health=["healthy", "none"])
TASKS = filters(desired_state=["running"])
EVENTS = filters(type=["container"], event=["start", "die", "health_status"], label=[TASK])
ALLOWED = [
    "/_ping",
    "/version",
    "/v1.41/version",
    "/v1.41/info",
    "/v1.41/nodes",
    "/v1.41/services?status=true",
    f"/v1.41/tasks?{TASKS}",
    f"/v1.41/containers/json?{CONTAINERS}",
    f"/v1.47/events?{EVENTS}",
]
LEAKING = [
    "/v1.41/containers/x/archive?path=/etc/shadow",
    "/v1.41/containers/x/export",
    "/v1.41/images/x/get",
    "/v1.41/secrets",
    "/v1.41/configs",
    "/v1.41/swarm",
    "/v1.41/swarm/unlockkey",
    "/v1.41/containers/x/logs?stdout=1",
    "/v1.41/containers/x/attach/ws?stream=1&stdin=1",
    "/v1.41/containers/x/json",
    "/v1.41/nodes/x",
    "/v1.41/services/x/logs",
    "/v1.41/tasks/x",
    "/v1.41/system/df",
    "/v1.41/plugins",
]
TRICKY_TARGETS = [
    "http://docker/v1.41/containers/json",  # absolute form
    "//v1.41/containers/json",
    "/v1.41/containers%2fjson",
    "/v1.41/containers/json/../x/export",
    "/v1.41/./info",
    "/v1.41/../containers/x/export",
    "/v1.41/info?x=1",  # a parameter the agent never sends
    "/v1.41/services?status=true&status=false",
    "/v1.41/containers/json?filters=%ZZ",
    "/v1.41/containers/json?filters={}",
    "*",
    "/INFO",
    # allowed paths, parameters the agent never sends: what they would show
    "/v1.41/containers/json?all=1",  # every container's command line
    f"/v1.41/containers/json?{CONTAINERS}&limit=1",
    "/v1.41/events?since=0",  # a replay of old events (exec commands)
    f"/v1.41/events?{EVENTS}&until=9",
    "/v1.41/services?status=false",
    f"/v1.41/containers/json?{filters(label=['com.example.secret'])}",
    f"/v1.41/tasks?{filters(node=['x'])}",
    f"/v1.41/events?{filters(type=['container', 'exec'])}",
    "/v1.41/tasks?filters=%5B%5D",
    "/v1.41/tasks?filters=" + "%5B" * 600,
    # where the agent sends filters they are required, exactly its names, true values
    "/v1.41/events",  # every event on the engine: exec_start with its command line
    "/v1.41/tasks",
    "/v1.41/containers/json",
    "/v1.41/events?" + urlencode({"filters": json.dumps(
        {"type": {"container": True}, "event": {"start": True, "": False}, "label": {TASK: True}}
    )}),  # Moby counts the key "" whatever its value: every event
    "/v1.41/events?" + urlencode({"filters": json.dumps(
        {"type": {"container": True}, "event": {"start": True, "die": False}, "label": {TASK: True}}
    )}),
    f"/v1.41/events?{filters(type=['container'], event=['start', 'die'])}",  # no label
    f"/v1.41/events?{filters(type=['container'], event=[], label=[TASK])}",  # no event: all
    f"/v1.41/containers/json?{filters(label=[TASK])}",  # stopped ones too
    f"/v1.41/tasks?{filters(desired_state=['running'], name=['x'])}",
    # a name twice: which one a parser keeps is its own choice
    "/v1.41/events?" + urlencode({"filters": '{"type":{"container":true},'
        '"event":{"exec_start":true},"event":{"start":true},'
        f'"label":{{"{TASK}":true}}}}'}),
]  # fmt: skip
SMUGGLED = [
    # a GET with a body that is another request
    b"GET /_ping HTTP/1.1\r\nHost: d\r\nContent-Length: 31\r\n\r\n"
    b"POST /containers/x/kill HTTP/1.1\r\n\r\n",
    # bare LF framing, hiding a privileged container
    b"GET /_ping HTTP/1.1\nHost: d\n\nPOST /containers/create HTTP/1.1\nHost: d\n"
    b'Content-Length: 58\n\n{"HostConfig":{"Privileged":true,"Binds":["/:/host"]}}',
    # pipelining
    b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\nPOST /containers/pwn/start HTTP/1.1\r\nHost: d\r\n\r\n",
    b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\nGET /v1.41/containers/json HTTP/1.1\r\nHost: d\r\n\r\n",
    # TE/CL
    b"GET /_ping HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"GET /_ping HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"GET /_ping HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n",
    b"GET /_ping HTTP/1.1\r\nHost: d\r\nTransfer-Encoding : chunked\r\n\r\n",
    # an upgrade on an allowed path, and the attach upgrade
    b"GET /_ping HTTP/1.1\r\nHost: d\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n",
    b"GET /v1.41/containers/x/attach/ws?stdin=1 HTTP/1.1\r\nHost: d\r\n"
    b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\nrm -rf /\n",
    b"GET /_ping HTTP/1.1\r\nHost: d\r\nExpect: 100-continue\r\n\r\n",
    # methods
    b"get /_ping HTTP/1.1\r\nHost: d\r\n\r\n",
    b"POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 2\r\n\r\n{}",
    b"DELETE /v1.41/containers/x HTTP/1.1\r\nHost: d\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: d\r\n\r\n",
    # framing oddities
    b"GET /_ping HTTP/1.1\r\nHost: d\r\nX: a\r\n b\r\n\r\n",  # folded header
    b"GET /_ping HTTP/1.1\r\nHost: d\0\r\n\r\n",
    b"GET /_ping HTTP/1.0\r\n\r\n\r\n",  # an extra CRLF after the head
    b"GET  /_ping HTTP/1.1\r\nHost: d\r\n\r\n",
    b"GET /_ping HTTP/2.0\r\nHost: d\r\n\r\n",
    b"GET /_ping\r\n\r\n",
]


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[RecordingUpstream]:
    u = RecordingUpstream(tmp_path / "docker.sock")
    yield u
    u.close()


@pytest.fixture
def proxy(upstream: RecordingUpstream) -> Iterator[SocketProxy]:
    with SocketProxy(f"127.0.0.1:{free_port()}", str(upstream.path), head_timeout_s=1.0) as p:
        yield p


def exchange(proxy: SocketProxy, raw: bytes, timeout_s: float = 5) -> bytes:
    """Send raw bytes, return all the proxy answers until it closes."""
    with socket.create_connection(proxy.address, timeout=timeout_s) as s:
        try:
            s.sendall(raw)
        except OSError:
            pass  # closed on us mid-send: what came back says why
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
        except OSError:
            pass
        return answer


def get(target: str) -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: docker\r\n\r\n".encode()


def settled(upstream: RecordingUpstream) -> list[bytes]:
    time.sleep(0.2)  # the recorder waits a moment for anything behind the head
    return list(upstream.received)


@pytest.mark.parametrize("target", [t for t in ALLOWED if "/events" not in t])
def test_the_agents_gets_pass_rebuilt(
    proxy: SocketProxy, upstream: RecordingUpstream, target: str
) -> None:
    raw = f"GET {target} HTTP/1.1\r\nHost: evil\r\nX-Registry-Auth: x\r\nCookie: y\r\n\r\n"
    answer = exchange(proxy, raw.encode())
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"OK")
    assert settled(upstream) == [upstream_request(b"GET", target.encode())]  # nothing else


def test_head_passes_too(proxy: SocketProxy, upstream: RecordingUpstream) -> None:
    assert exchange(proxy, b"HEAD /_ping HTTP/1.1\r\nHost: d\r\n\r\n").startswith(b"HTTP/1.1 200")
    assert settled(upstream) == [upstream_request(b"HEAD", b"/_ping")]


@pytest.mark.parametrize("target", LEAKING + TRICKY_TARGETS)
def test_every_other_path_is_refused(
    proxy: SocketProxy, upstream: RecordingUpstream, target: str
) -> None:
    assert exchange(proxy, get(target)).startswith(b"HTTP/1.1 403")
    assert settled(upstream) == []


@pytest.mark.parametrize("raw", SMUGGLED, ids=range(len(SMUGGLED)))
def test_smuggling_is_refused_and_nothing_reaches_docker(
    proxy: SocketProxy, upstream: RecordingUpstream, raw: bytes
) -> None:
    assert exchange(proxy, raw).startswith(b"HTTP/1.1 403")
    assert settled(upstream) == []
    assert proxy.counts["refused"] == 1 and proxy.counts["allowed"] == 0


def test_bytes_sent_after_an_allowed_head_never_reach_docker(
    proxy: SocketProxy, upstream: RecordingUpstream
) -> None:
    """The second part comes later, as its own packet: the proxy has stopped reading."""
    with socket.create_connection(proxy.address, timeout=5) as s:
        s.sendall(get("/v1.41/info"))
        time.sleep(0.1)
        try:
            s.sendall(b"POST /v1.41/containers/pwn/start HTTP/1.1\r\nHost: d\r\n\r\n")
        except OSError:
            pass
        time.sleep(0.3)
    assert settled(upstream) == [upstream_request(b"GET", b"/v1.41/info")]


def test_a_huge_request_line_is_refused_at_8_kib(
    proxy: SocketProxy, upstream: RecordingUpstream
) -> None:
    raw = b"GET /v1.41/info?filters=" + b"a" * 10_000_000 + b" HTTP/1.1\r\n\r\n"
    assert exchange(proxy, raw).startswith(b"HTTP/1.1 403")
    assert settled(upstream) == []


def test_a_silent_client_is_dropped_and_connections_are_capped(upstream: RecordingUpstream) -> None:
    with SocketProxy(
        f"127.0.0.1:{free_port()}", str(upstream.path), max_connections=4, head_timeout_s=1.0
    ) as proxy:
        idle = [socket.create_connection(proxy.address, timeout=5) for _ in range(4)]
        time.sleep(0.2)
        assert exchange(proxy, get("/_ping")).startswith(b"HTTP/1.1 503")  # all slots taken
        for s in idle:  # after the head timeout each is told 403 and closed
            assert s.recv(100).startswith(b"HTTP/1.1 403")
            s.close()
        assert wait_until(lambda: exchange(proxy, get("/_ping")).startswith(b"HTTP/1.1 200"), 5)
        assert proxy.counts["busy"] == 1


def test_memory_and_threads_stay_bounded(proxy: SocketProxy) -> None:
    before = threading.active_count()
    for _ in range(600):
        exchange(proxy, get("/_ping"))
    assert proxy.counts["allowed"] == 600 and len(proxy.recent) <= 256
    # no thread is left behind per connection (the recorder's own end a moment later)
    assert wait_until(lambda: threading.active_count() <= before, 5), threading.active_count()


def test_events_stream_and_end_when_the_client_leaves(
    proxy: SocketProxy, upstream: RecordingUpstream
) -> None:
    with socket.create_connection(proxy.address, timeout=5) as s:
        s.sendall(get(f"/v1.41/events?{EVENTS}"))
        got = b""
        while got.count(b"{}") < 3:  # the stream goes on
            chunk = s.recv(4096)
            assert chunk, got
            got += chunk
        assert got.startswith(b"HTTP/1.1 200")
        assert upstream.open_streams == 1
    assert wait_until(lambda: upstream.open_streams == 0, 5)  # upstream closed, no leak


def test_events_streams_are_capped_and_end_when_their_time_is_up(
    upstream: RecordingUpstream,
) -> None:
    """32 streams once held every slot with no time limit, and the agent got 503."""
    with SocketProxy(f"127.0.0.1:{free_port()}", str(upstream.path), max_event_streams=2,
                     events_lifetime_s=1.5) as proxy:  # fmt: skip
        streams = [socket.create_connection(proxy.address, timeout=5) for _ in range(3)]
        try:
            for s in streams[:2]:
                s.sendall(get(f"/v1.41/events?{EVENTS}"))
                assert s.recv(4096).startswith(b"HTTP/1.1 200")
            streams[2].sendall(get(f"/v1.41/events?{EVENTS}"))
            assert streams[2].recv(4096).startswith(b"HTTP/1.1 503")
            assert exchange(proxy, get("/v1.41/info")).startswith(b"HTTP/1.1 200")  # others pass
            started = time.monotonic()
            while streams[0].recv(4096):  # streaming, until its time is up
                assert time.monotonic() - started < 10
            assert wait_until(lambda: upstream.open_streams == 0, 5)
            with socket.create_connection(proxy.address, timeout=5) as again:
                again.sendall(get(f"/v1.41/events?{EVENTS}"))
                assert again.recv(4096).startswith(b"HTTP/1.1 200")  # the slots are free again
        finally:
            for s in streams:
                s.close()


def test_a_client_that_half_closes_still_gets_its_answer(
    proxy: SocketProxy, upstream: RecordingUpstream
) -> None:
    with socket.create_connection(proxy.address, timeout=5) as s:
        s.sendall(get("/v1.41/info"))
        s.shutdown(socket.SHUT_WR)  # as nc -N or socat do
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"OK")


def test_bad_upstream_is_a_502(tmp_path: Path) -> None:
    with SocketProxy(f"127.0.0.1:{free_port()}", str(tmp_path / "none.sock")) as proxy:
        assert exchange(proxy, get("/_ping")).startswith(b"HTTP/1.1 502")


def test_an_agent_behind_a_proxy_whose_docker_is_gone_says_so_in_one_line(
    tmp_path: Path,
) -> None:
    """A node's dockerd stopped, its proxy still there: not a 502 traceback in words."""
    from agent.docker.connect import docker_connect
    from agent.docker.swarm import SwarmSampler
    from agent.settings.config import load_agent_config

    listen = str(tmp_path / "proxy.sock")
    with SocketProxy(listen, str(tmp_path / "none.sock")):
        args = ["--docker-host", f"unix://{listen}", "--docker-timeout", "2"]
        config = load_agent_config(args, {})
        connect = docker_connect(config.docker_host, config.docker_timeout_s)
        sampler = SwarmSampler(connect, f"unix://{listen}", timeout_s=2)
        reading = sampler.read()
    assert not reading.ok and reading.tasks_running is None  # unknown, not 0
    why = f"the socket proxy at {listen} cannot reach Docker (is dockerd running?)"
    assert reading.error == why
