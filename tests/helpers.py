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

    from agent.schemas import load_schema

    schema = load_schema(kind)
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(payload)
