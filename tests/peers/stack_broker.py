"""The stack's broker (workshop/broker-start: users, ACL, bounds, then mosquitto) on
loopback ports (the agents' listener, the viewers'), with secrets made here: the very
script the stack runs, on this machine. TLS with workshop/passwords' certificates."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.leftovers import marked
from tests.peers.broker import Broker
from tests.peers.net import free_port

WORKSHOP = Path(__file__).resolve().parents[2] / "workshop"
BROKER_START = WORKSHOP / "broker-start"
PASSWORDS = {"gauge": "gauge-pw-2", "viewer": "viewer-pw-3", "operator": "operator-pw-4"}


def node_password(node: str) -> str:
    """Each node's own password (agent_passwords), as workshop/passwords gives it."""
    return f"pw-of-{node}"


class StackBroker(Broker):
    """nodes: the Swarm's host names (agent_passwords); open: the open variant; tls: the
    listeners speak TLS with certificates workshop/passwords made (ca_file checks them).
    port: the agents' and the gauge's listener; viewer_port: the viewers'."""

    def __init__(
        self,
        workdir: Path,
        nodes: list[str],
        open_: bool = False,
        tls: bool = False,
        managers: list[str] | None = None,
    ) -> None:
        super().__init__(workdir)
        self.nodes = nodes
        self.managers = managers  # SWARMGAUGE_MANAGERS; None: unset (every node may)
        self.open = open_
        self.tls = tls
        self.viewer_port = free_port()
        self.secrets = workdir / "secrets"
        self.secrets.mkdir(exist_ok=True)
        for user, password in PASSWORDS.items():
            (self.secrets / f"{user}_password").write_text(password + "\n")
        (self.secrets / "agent_passwords").write_text(
            "".join(f"{node}:{node_password(node)}\n" for node in nodes)
        )
        self.ca_file = self.secrets / "ca.crt"
        if tls:  # the CA and the broker's certificate, as the workshop makes them
            env = marked({"PATH": os.environ["PATH"], "SWARMGAUGE_SECRETS": str(self.secrets),
                          "SWARMGAUGE_NODES": " ".join(nodes) or "none"})  # fmt: skip
            subprocess.run(["sh", str(WORKSHOP / "passwords")], env=env, check=True,
                           capture_output=True, timeout=60)  # fmt: skip
        # mosquitto drops root for its own user, who must reach this directory
        self.run_dir = Path(tempfile.mkdtemp(prefix="sg-broker-", dir="/tmp"))

    def _command(self) -> list[str]:
        return ["sh", str(BROKER_START)]

    def _env(self) -> dict[str, str]:
        return marked(
            {
                "PATH": os.environ["PATH"],
                "SWARMGAUGE_BROKER_SECRETS": str(self.secrets),
                "SWARMGAUGE_BROKER_DIR": str(self.run_dir),
                "SWARMGAUGE_BROKER_LISTEN_PORT": str(self.port),
                "SWARMGAUGE_BROKER_VIEWER_PORT": str(self.viewer_port),
                "SWARMGAUGE_BROKER_BIND": self.host,
                "SWARMGAUGE_BROKER_OPEN": "yes" if self.open else "no",
                "SWARMGAUGE_BROKER_TLS": "yes" if self.tls else "no",
                **({"SWARMGAUGE_MANAGERS": " ".join(self.managers)} if self.managers else {}),
            }
        )

    def url_for(self, user: str) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        port = self.viewer_port if user == "viewer" else self.port
        return f"{scheme}://{user}@{'localhost' if self.tls else self.host}:{port}"

    def password_file(self, user: str) -> Path:
        """The secret a node's agent, the gauge or a viewer reads."""
        if user in PASSWORDS:
            return self.secrets / f"{user}_password"
        path = self.secrets / "agents" / user
        path.parent.mkdir(exist_ok=True)
        path.write_text(node_password(user) + "\n")
        return path

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)
