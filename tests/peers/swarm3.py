"""A real multi-node Docker Swarm on one machine: one dockerd per network namespace.

Each node is a dockerd in its own network namespace (`sgtN`) and UTS namespace (its
own host name, `sgtN`), with its own socket, data root, exec root and cgroup parent,
joined to the others over a bridge (`br-sgtest`) on 10.231.77.0/24, a /24 that only
these tests use. The host has one address there (.254), for what the nodes must reach
on it (the fault suite's broker, so a cut link cuts MQTT too, as a Pi losing the
room's Wi-Fi loses both); it routes nothing, so Swarm's traffic stays between the
namespaces. A node's dockerd is read through its unix socket, from anywhere.

Faults are real: a dockerd stopped and started again, a node's link cut (its veth
down), managers promoted, demoted, drained, removed. Everything is undone by pid and
by name in close(), even after a failure half-way through start().

The tricks (see shared/tools/swarm3.sh): `ip netns exec` remounts /sys, which leaves
/sys/fs/cgroup empty inside, so the cgroup hierarchies are mounted again there;
DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 keeps Swarm from asking a registry.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.peers.dockerd import IMAGE, DockerdUnavailable, answers, busybox_tar
from tests.peers.net import wait_until

SUBNET = "10.231.77"
HOST_ADDR = f"{SUBNET}.254"  # the host's own address on the bridge
BRIDGE = "br-sgtest"
NETNS = "sgt{n}"
CGROUP_PARENT = "sgtnode{n}"

# Runs as: ip netns exec sgtN unshare --uts sh -c INNER sh HOSTNAME CGROUPS DOCKERD-ARGS...
INNER = r"""
hostname "$1"
mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup
while read -r mp fs opts; do
  mkdir -p "$mp" && mount -t "$fs" -o "$opts" cgroup "$mp"
done < "$2"
shift 2
export DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1
exec dockerd "$@"
"""


class SwarmUnavailable(DockerdUnavailable):
    """The machine cannot run a multi-node Swarm; the message says why."""


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise SwarmUnavailable(f"{' '.join(cmd)}: {result.stderr.strip()[:300]}")
    return result


@dataclass
class Node:
    n: int
    dir: Path
    proc: subprocess.Popen[bytes] | None = None
    client: Any = None
    node_id: str = ""
    log_offset: int = field(default=0)
    cut: bool = False  # its link is down (Swarm3.cut)

    @property
    def name(self) -> str:
        """The host name, which is also the Swarm node's and the agent's name."""
        return f"sgt{self.n}"

    @property
    def netns(self) -> str:
        return NETNS.format(n=self.n)

    @property
    def addr(self) -> str:
        return f"{SUBNET}.{self.n}"

    @property
    def veth(self) -> str:
        return f"vsgt{self.n}"

    @property
    def socket(self) -> Path:
        return self.dir / "docker.sock"

    @property
    def base_url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Swarm3:
    """Three (or `size`) dockerd joined in one Swarm: node 1 manager, the rest workers."""

    def __init__(self, size: int = 3, heartbeat_s: int = 1) -> None:
        self.size = size
        self.heartbeat_s = heartbeat_s
        self.dir = Path(tempfile.mkdtemp(prefix="sg3-", dir="/tmp"))  # short: socket paths
        self.nodes = [Node(n, self.dir / f"n{n}") for n in range(1, size + 1)]
        self._cgroups = self.dir / "cgroups.lst"
        self._net_made: list[tuple[str, str]] = []  # ("netns"|"link", name), to undo

    # --- start -----------------------------------------------------------------------

    def start(self) -> Swarm3:
        if os.geteuid() != 0:
            raise SwarmUnavailable("a multi-node Swarm needs root")
        for tool in ("dockerd", "ip", "unshare", "busybox", "nft"):
            if shutil.which(tool) is None:
                raise SwarmUnavailable(f"{tool} not found")
        try:
            self._net_up()
            mounts = Path("/proc/self/mounts").read_text().splitlines()
            self._cgroups.write_text(
                "".join(
                    f"{p[1]} {p[2]} {p[3]}\n"
                    for p in (m.split() for m in mounts)
                    if p[2] in ("cgroup", "cgroup2")
                )
            )
            for node in self.nodes:
                self.start_dockerd(node)
            self._form_swarm()
        except BaseException:
            self.close()
            raise
        return self

    def _net_up(self) -> None:
        _run("ip", "link", "add", BRIDGE, "type", "bridge")
        self._net_made.append(("link", BRIDGE))
        _run("ip", "addr", "add", f"{HOST_ADDR}/24", "dev", BRIDGE)
        _run("ip", "link", "set", BRIDGE, "up")
        for node in self.nodes:
            _run("ip", "netns", "add", node.netns)
            self._net_made.append(("netns", node.netns))
            _run("ip", "link", "add", node.veth, "type", "veth", "peer", "name", "eth0",
                 "netns", node.netns)  # fmt: skip
            self._net_made.append(("link", node.veth))
            _run("ip", "link", "set", node.veth, "master", BRIDGE, "up")
            _run("ip", "-n", node.netns, "addr", "add", f"{node.addr}/24", "dev", "eth0")
            _run("ip", "-n", node.netns, "link", "set", "eth0", "up")
            _run("ip", "-n", node.netns, "link", "set", "lo", "up")

    def start_dockerd(self, node: Node, timeout_s: float = 60) -> None:
        """Start (or start again) the node's dockerd; returns once its API answers."""
        import docker

        node.dir.mkdir(parents=True, exist_ok=True)
        log_path = node.dir / "dockerd.log"
        node.log_offset = log_path.stat().st_size if log_path.exists() else 0
        args = [
            f"--host={node.base_url}",
            f"--data-root={node.dir / 'data'}",
            f"--exec-root={node.dir / 'exec'}",
            f"--pidfile={node.dir / 'docker.pid'}",
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--log-level=warn",
            f"--containerd-namespace=sgt{node.n}",
            f"--containerd-plugins-namespace=sgt{node.n}-plugins",
            f"--cgroup-parent=/{CGROUP_PARENT.format(n=node.n)}",
        ]
        with log_path.open("ab") as log:
            node.proc = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    node.netns,
                    "unshare",
                    "--uts",
                    "sh",
                    "-c",
                    INNER,
                    "sh",
                    node.name,
                    str(self._cgroups),
                    *args,
                ],  # fmt: skip
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

        def up() -> bool:
            return not node.running or answers(node.base_url)

        wait_until(up, timeout_s=timeout_s, interval_s=0.2)
        if not node.running:
            raise SwarmUnavailable(f"dockerd of {node.name} exited: {self.log_tail(node)}")
        if node.client is not None:
            node.client.close()
        node.client = docker.DockerClient(base_url=node.base_url, version="auto", timeout=30)

    def _form_swarm(self) -> None:
        first = self.nodes[0]
        first.client.swarm.init(
            advertise_addr=first.addr,
            listen_addr=f"{first.addr}:2377",
            default_addr_pool=[f"{SUBNET.rsplit('.', 1)[0]}.78.0/24"],
            subnet_size=26,
        )
        first.client.swarm.update(dispatcher_heartbeat_period=self.heartbeat_s * 1_000_000_000)
        token = first.client.swarm.attrs["JoinTokens"]["Worker"]
        for node in self.nodes[1:]:
            node.client.swarm.join(
                remote_addrs=[f"{first.addr}:2377"],
                join_token=token,
                advertise_addr=node.addr,
                listen_addr=f"{node.addr}:2377",
            )
        if not wait_until(lambda: self.states(first) == {n.name: "ready" for n in self.nodes}, 60):
            raise SwarmUnavailable(f"nodes not ready: {self.states(first)}")
        for node in self.nodes:
            node.node_id = node.client.info()["Swarm"]["NodeID"]
            node.client.api.import_image_from_data(
                busybox_tar(), repository=IMAGE.split(":")[0], tag="latest"
            )

    # --- what the tests read -----------------------------------------------------------

    def states(self, via: Node) -> dict[str, str]:
        """Host name → Swarm state (ready/down/unknown) as `via`'s manager sees it."""
        try:
            return {
                n["Description"]["Hostname"]: n["Status"]["State"] for n in via.client.api.nodes()
            }
        except Exception:
            return {}

    def leader(self) -> Node | None:
        """The node that is Raft leader now, asked of every running manager."""
        for node in self.nodes:
            if not node.running:
                continue
            try:
                for n in docker_timeout(node).nodes():
                    if (n.get("ManagerStatus") or {}).get("Leader"):
                        return next(x for x in self.nodes if x.node_id == n["ID"])
            except Exception:
                continue
        return None

    def log_tail(self, node: Node, lines: int = 10) -> str:
        try:
            text = (node.dir / "dockerd.log").read_bytes()[node.log_offset :]
        except OSError:
            return ""
        return " | ".join(text.decode(errors="replace").splitlines()[-lines:])

    # --- faults ----------------------------------------------------------------------

    def stop_dockerds(self, *nodes: Node) -> None:
        """Several at once: every SIGTERM sent before waiting for any."""
        for node in nodes:
            if node.proc is not None and node.proc.poll() is None:
                node.proc.send_signal(signal.SIGTERM)
        for node in nodes:
            self.stop_dockerd(node)

    def stop_dockerd(self, node: Node, timeout_s: float = 30) -> None:
        """SIGTERM the node's dockerd (it stops its containers) and wait for it."""
        if node.proc is None:
            return
        if node.proc.poll() is None:
            node.proc.send_signal(signal.SIGTERM)
            try:
                node.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                node.proc.kill()
                node.proc.wait()
        if node.client is not None:
            node.client.close()
            node.client = None

    def cut(self, node: Node) -> None:
        """The node's only link goes down: it can reach no other node, nor they it."""
        _run("ip", "link", "set", node.veth, "down")
        node.cut = True

    def mend(self, node: Node) -> None:
        _run("ip", "link", "set", node.veth, "up")
        node.cut = False

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def lossy(self, node: Node, percent: int) -> None:
        """Drop `percent` % of the node's packets, each way, at random (this kernel has
        no sch_netem; nftables inside the node's namespace does it)."""
        ruleset = (
            "table inet sglossy {\n"
            " chain in { type filter hook input priority 0;"
            f' iifname "eth0" numgen random mod 100 < {percent} drop; }}\n'
            " chain out { type filter hook output priority 0;"
            f' oifname "eth0" numgen random mod 100 < {percent} drop; }}\n'
            "}\n"
        )
        result = subprocess.run(
            ["ip", "netns", "exec", node.netns, "nft", "-f", "-"],
            input=ruleset, capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode != 0:
            raise SwarmUnavailable(f"nft in {node.netns}: {result.stderr.strip()[:300]}")

    def lossless(self, node: Node) -> None:
        _run("ip", "netns", "exec", node.netns, "nft", "delete", "table", "inet", "sglossy",
             check=False)  # fmt: skip

    def wrapper(self, node: Node) -> list[str]:
        """The command prefix that runs a program inside the node's network namespace."""
        return ["ip", "netns", "exec", node.netns]

    # --- the end ---------------------------------------------------------------------

    def close(self) -> None:
        """Undo everything, killing only what this Swarm started."""
        for node in reversed(self.nodes):
            if node.client is not None and node.running:
                try:
                    for s in node.client.api.services() if node is self.nodes[0] else []:
                        node.client.api.remove_service(s["ID"])
                except Exception:
                    pass
        for node in self.nodes:
            if node.running:
                try:
                    docker_timeout(node, 10).leave_swarm(force=True)
                except Exception:
                    pass
        for node in self.nodes:
            self.stop_dockerd(node)
        self._kill_leftovers()
        for kind, name in reversed(self._net_made):
            if kind == "netns":
                _run("ip", "netns", "del", name, check=False)
            else:
                _run("ip", "link", "del", name, check=False)
        self._net_made.clear()
        for node in self.nodes:
            for ctrl in Path("/sys/fs/cgroup").glob(f"*/{CGROUP_PARENT.format(n=node.n)}"):
                for sub in sorted(ctrl.rglob("*"), key=lambda p: len(str(p)), reverse=True):
                    if sub.is_dir():
                        try:
                            sub.rmdir()
                        except OSError:
                            pass
                try:
                    ctrl.rmdir()
                except OSError:
                    pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def _kill_leftovers(self) -> None:
        """containerd, shims and container processes of ours that outlived a dockerd."""
        mine = str(self.dir) + "/"
        victims: set[int] = set()
        for node in self.nodes:
            parent = CGROUP_PARENT.format(n=node.n)
            for procs in Path("/sys/fs/cgroup").glob(f"pids/{parent}/**/cgroup.procs"):
                try:
                    victims.update(int(p) for p in procs.read_text().split())
                except OSError:
                    pass
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if mine in cmdline and cmdline.split(" ", 1)[0].rsplit("/", 1)[-1].startswith(
                ("dockerd", "containerd")
            ):
                victims.add(int(proc.name))
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if victims:
            time.sleep(0.5)

    def __enter__(self) -> Swarm3:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()


def docker_timeout(node: Node, timeout_s: float = 3) -> Any:
    """A low-level client on the node with a short timeout (managers hang in elections)."""
    import docker

    return docker.APIClient(base_url=node.base_url, version="auto", timeout=timeout_s)
