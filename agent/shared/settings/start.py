"""What both command lines do first: read the settings (bad: one line, exit 2), log setup."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from agent.shared.errors import ConfigError
from agent.shared.settings.options import Option, one_of, text_value

C = TypeVar("C")

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_LEVEL_OPTION = Option("--log-level", one_of(*LOG_LEVELS), "info", "|".join(LOG_LEVELS), "LEVEL")


HEARTBEAT_OPTION = Option(
    "--heartbeat-file", text_value, None, "file touched after every round (healthcheck)", "PATH"
)


def load_settings(
    prog: str,
    load: Callable[[Sequence[str] | None, Mapping[str, str]], C],
    argv: Sequence[str] | None,
) -> C | None:
    """The settings, or None after saying on stderr, in one line, what is wrong."""
    try:
        return load(argv, os.environ)
    except ConfigError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return None
