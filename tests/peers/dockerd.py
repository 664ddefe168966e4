"""A real dockerd in swarm mode, with its own socket, data root and exec root.

Bound to loopback: `swarm init --advertise-addr 127.0.0.1 --listen-addr
127.0.0.1:<free port>`, no iptables, no default bridge. Test services use the
host network so no overlay or bridge traffic is made. Cleans up after itself by
pid: services removed, swarm left, dockerd stopped, its mounts and the
docker_gwbridge it made removed.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from tests.peers.net import free_port, free_port_between, wait_until
from tests.peers.process import end

IMAGE = "swarmgauge-test/busybox:latest"
BUSYBOX_APPLETS = ("sh", "sleep", "true", "false", "echo", "cat", "ls", "yes")


class DockerdUnavailable(RuntimeError):
    """dockerd cannot run here; the message says why."""


def busybox_tar() -> bytes:
    """A root filesystem with busybox-static and a few applets, as a tar."""
    busybox = shutil.which("busybox")
    if busybox is None:
        raise DockerdUnavailable("busybox not found (apt-get install busybox-static)")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(busybox, arcname="bin/busybox")
        for applet in BUSYBOX_APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            tar.addfile(link)
        for d in ("tmp", "proc", "sys", "dev", "etc"):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
    return buf.getvalue()


def answers(base_url: str) -> bool:
    """Whether the dockerd at base_url answers a ping within 2 s."""
    import docker

    try:
        docker.APIClient(base_url=base_url, version="auto", timeout=2).ping()
        return True
    except Exception:
        return False


class Dockerd:
    """One dockerd of our own; swarm=False leaves it out of any swarm."""

    def __init__(self, swarm: bool = True) -> None:
        self.swarm = swarm
        # Short path: a unix socket path must fit in 108 bytes.
        self.dir = Path(tempfile.mkdtemp(prefix="sgd-", dir="/tmp"))
        self.socket = self.dir / "docker.sock"
        self.base_url = f"unix://{self.socket}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.dir / "dockerd.log"
        self._had_gwbridge = Path("/sys/class/net/docker_gwbridge").exists()
        self.client: Any = None

    def start(self) -> Dockerd:
        if os.geteuid() != 0:
            raise DockerdUnavailable("dockerd needs root")
        if shutil.which("dockerd") is None:
            raise DockerdUnavailable("dockerd not installed (apt-get install docker.io)")
        import docker

        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                "dockerd",
                f"--host={self.base_url}",
                f"--data-root={self.dir / 'root'}",
                f"--exec-root={self.dir / 'exec'}",
                f"--pidfile={self.dir / 'docker.pid'}",
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--log-level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        wait_until(self._pingable, timeout_s=60, interval_s=0.2)
        if self.proc.poll() is not None or not self._pingable():
            tail = self.log_tail()
            self.stop()
            raise DockerdUnavailable(f"dockerd did not start: {tail}")
        self.client = docker.DockerClient(base_url=self.base_url, version="auto", timeout=60)
        try:
            if not self.swarm:
                return self
            self.init_swarm()
            self.client.api.import_image_from_data(
                busybox_tar(), repository=IMAGE.split(":")[0], tag="latest"
            )
        except Exception as exc:
            self.stop()
            raise DockerdUnavailable(f"swarm init or image import failed: {exc}") from exc
        return self

    def init_swarm(self) -> None:
        """A swarm of one, on loopback (again, after a test that left it)."""
        self.client.swarm.init(
            advertise_addr="127.0.0.1",
            listen_addr=f"127.0.0.1:{free_port()}",
            data_path_port=free_port_between(20000, 49151),  # Swarm's allowed range
        )

    def _pingable(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            return True  # dockerd exited: stop waiting; start() reports it
        return self.socket.exists() and answers(self.base_url)

    def log_tail(self, lines: int = 15) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def remove_services(self) -> None:
        if self.client is None:
            return
        for service in self.client.api.services():
            self.client.api.remove_service(service["ID"])
        # Swarm reaps a removed service's containers only after a few seconds: do it now.
        for container in self.client.api.containers(all=True):
            try:
                self.client.api.remove_container(container["Id"], force=True)
            except Exception:
                pass  # already gone
        wait_until(lambda: not self.client.api.containers(all=True), timeout_s=30, interval_s=0.1)

    def stop(self) -> None:
        """Undo everything start() did, killing only the dockerd we started."""
        if self.client is not None:
            try:
                if self.swarm:
                    self.remove_services()
                    self.client.swarm.leave(force=True)
            except Exception:
                pass
            self.client.close()
            self.client = None
        if self.proc is not None:
            end(self.proc, 30)
            self.proc = None
        self._end_shims()
        self._unmount_all()
        gwbridge = Path("/sys/class/net/docker_gwbridge")
        if not self._had_gwbridge and gwbridge.exists() and shutil.which("ip"):
            subprocess.run(["ip", "link", "del", "docker_gwbridge"], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _end_shims(self) -> None:
        """The containerd-shims that outlived our dockerd (hundreds did, after 1,000
        containers removed at once): ours by our exec root in their command line."""
        marker = f"-address {self.dir}/exec/".encode()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"containerd-shim" in cmdline and marker in cmdline:
                try:
                    os.kill(int(proc.name), signal.SIGKILL)
                except OSError:
                    pass

    def _unmount_all(self) -> None:
        """Lazily unmount whatever dockerd left mounted below our directory."""
        prefix = str(self.dir) + "/"
        try:
            mounts = [
                line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
            ]
        except OSError:
            return
        for mount in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], check=False, capture_output=True)

    def __enter__(self) -> Dockerd:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def wait_for_running(client: Any, service_name: str, count: int, timeout_s: float = 60) -> bool:
    """True once exactly `count` tasks of the service are running."""

    def running() -> bool:
        tasks = client.api.tasks(filters={"service": service_name, "desired-state": "running"})
        return sum(1 for t in tasks if t["Status"]["State"] == "running") == count

    return bool(wait_until(running, timeout_s=timeout_s, interval_s=0.2))


def create_service(
    client: Any,
    name: str,
    command: list[str],
    replicas: int | None = 1,
    restart_delay_s: float = 5.0,
    constraints: list[str] | None = None,
    healthcheck: Any = None,
) -> Any:
    """A service of the test image on the host network; replicas None means global;
    healthcheck: a docker.types.Healthcheck.

    busybox as PID 1 ignores SIGTERM, so tasks are stopped with SIGKILL at once.
    """
    from docker.types import RestartPolicy, ServiceMode

    mode = ServiceMode("global") if replicas is None else ServiceMode("replicated", replicas)
    return client.services.create(
        IMAGE,
        command,
        name=name,
        mode=mode,
        networks=["host"],
        stop_signal="SIGKILL",
        stop_grace_period=0,
        restart_policy=RestartPolicy(condition="any", delay=int(restart_delay_s * 1e9)),
        constraints=constraints,
        healthcheck=healthcheck,
    )


def scale_service(client: Any, name: str, replicas: int) -> None:
    """What `docker service scale` does: the same spec with a new replica count.

    (The SDK's Service.scale re-sends a rebuilt spec, which rolls every task.)
    """
    service = client.api.inspect_service(name)
    spec = service["Spec"]
    spec["Mode"]["Replicated"]["Replicas"] = replicas
    url = client.api._url("/services/{0}/update", service["ID"])
    response = client.api._post_json(
        url, data=spec, params={"version": service["Version"]["Index"]}
    )
    client.api._raise_for_status(response)
