"""swarmgauge-gauge: the command line."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from agent.errors import ConfigError
from gauge.config import load_gauge_config

PROG = "swarmgauge-gauge"


def main(argv: Sequence[str] | None = None) -> int:
    try:
        config = load_gauge_config(argv, os.environ)
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from gauge.runner import run

    return run(config)
