"""The stack's broker (workshop/broker-start: users, ACL, then mosquitto) on a loopback
port, with secrets made here: the very script the stack runs, on this machine."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from tests.peers.broker import Broker

BROKER_START = Path(__file__).resolve().parents[2] / "workshop" / "broker-start"
PASSWORDS = {"agent": "agent-pw-1", "gauge": "gauge-pw-2", "viewer": "viewer-pw-3"}


class StackBroker(Broker):
    """nodes: the Swarm's host names (SWARMGAUGE_NODES); open: the open variant."""

    def __init__(self, workdir: Path, nodes: list[str], open_: bool = False) -> None:
        super().__init__(workdir)
        self.nodes = nodes
        self.open = open_
        self.secrets = workdir / "secrets"
        self.secrets.mkdir(exist_ok=True)
        for user, password in PASSWORDS.items():
            (self.secrets / f"{user}_password").write_text(password + "\n")
        # mosquitto drops root for its own user, who must reach this directory
        self.run_dir = Path(tempfile.mkdtemp(prefix="sg-broker-", dir="/tmp"))

    def _command(self) -> list[str]:
        return ["sh", str(BROKER_START)]

    def _env(self) -> dict[str, str]:
        return {
            "PATH": os.environ["PATH"],
            "SWARMGAUGE_BROKER_SECRETS": str(self.secrets),
            "SWARMGAUGE_BROKER_DIR": str(self.run_dir),
            "SWARMGAUGE_BROKER_LISTEN_PORT": str(self.port),
            "SWARMGAUGE_BROKER_BIND": self.host,
            "SWARMGAUGE_NODES": "\n".join(self.nodes),
            "SWARMGAUGE_BROKER_OPEN": "yes" if self.open else "no",
        }

    def url_for(self, user: str) -> str:
        return f"mqtt://{user}@{self.host}:{self.port}"

    def password_file(self, user: str) -> Path:
        """The secret an agent (any node), the gauge or a viewer reads."""
        return self.secrets / f"{'agent' if user not in PASSWORDS else user}_password"

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)
