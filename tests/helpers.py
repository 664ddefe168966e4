"""Running the agent as a user would: its console script, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

AGENT = [sys.executable, "-m", "agent"]


def clean_env(**extra: str) -> dict[str, str]:
    """os.environ without inherited SWARMGAUGE_ or DOCKER_ settings, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWARMGAUGE_", "DOCKER_"))}
    env.update(extra)
    return env


def run_agent(
    args: Sequence[str], env: dict[str, str] | None = None, timeout_s: float = 60, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AGENT, *args],
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=Path(__file__).resolve().parent.parent,
        **kwargs,
    )


def json_lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def validate(kind: str, payload: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError unless payload fits the shipped schema `kind`."""
    import jsonschema

    from agent.shared.wire.schemas import load_schema

    schema = load_schema(kind)
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(payload)


class AgentProcess:
    """swarmgauge-agent running in the background, its log kept in a file."""

    def __init__(
        self,
        args: Sequence[str],
        log_path: Path,
        env: dict[str, str] | None = None,
        wrapper: Sequence[str] = (),
    ):
        """wrapper: a command prefix (e.g. `ip netns exec NS`) that execs the agent, so
        its pid is the agent's."""
        self.args = list(args)
        self.wrapper = list(wrapper)
        self.log_path = log_path
        self.env = env if env is not None else clean_env()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> AgentProcess:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*self.wrapper, *AGENT, *self.args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> AgentProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
