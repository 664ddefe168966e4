"""A real MQTT broker on a loopback port: mosquitto where installed, else amqtt.

The broker can be stopped and started again on the same port, which is how the
tests play a broker restart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Self

from tests.peers.net import free_port, wait_for_port
from tests.peers.process import Peer


class Broker(Peer):
    """One broker process. `extra_config` is added to mosquitto's config file."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        extra_config: str = "",
        kind: str | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.workdir = workdir
        self.host = host
        self.port = port or free_port()
        self.extra_config = extra_config
        self.kind = kind or ("mosquitto" if shutil.which("mosquitto") else "amqtt")
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"broker-{self.port}.log"

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def _command(self) -> list[str]:
        if self.kind == "mosquitto":
            conf = self.workdir / f"mosquitto-{self.port}.conf"
            listener = (
                f"listener {self.port} {self.host}\n" if "listener" not in self.extra_config else ""
            )
            anonymous = "" if "allow_anonymous" in self.extra_config else "allow_anonymous true\n"
            # as root mosquitto drops to user 'mosquitto', who cannot read the test's files
            user = "user root\n" if os.geteuid() == 0 else ""
            conf.write_text(
                listener
                + anonymous
                + user
                + "persistence false\nlog_type all\n"
                + self.extra_config
            )
            return ["mosquitto", "-c", str(conf)]
        conf = self.workdir / f"amqtt-{self.port}.yaml"
        conf.write_text(
            "listeners:\n  default:\n    type: tcp\n"
            f"    bind: {self.host}:{self.port}\n"
            "plugins:\n  amqtt.plugins.authentication.AnonymousAuthPlugin:\n"
            "    allow_anonymous: true\n"
        )
        amqtt = Path(sys.executable).with_name("amqtt")
        return [str(amqtt), "-c", str(conf)]

    def _env(self) -> dict[str, str] | None:
        return None  # ours

    def start(self) -> Self:
        if self.proc is not None and self.proc.poll() is None:
            return self
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self._command(),
            env=self._env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        if not wait_for_port(self.port, timeout_s=15, host=self.host):
            self.stop()
            raise RuntimeError(f"{self.kind} did not listen on {self.port}: {self.log_tail()}")
        return self
