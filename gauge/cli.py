"""swarmgauge-gauge: the command line."""

from __future__ import annotations

from collections.abc import Sequence

from agent.shared.logs import setup_logging
from agent.shared.settings.start import load_settings
from gauge.config import load_gauge_config

PROG = "swarmgauge-gauge"


def main(argv: Sequence[str] | None = None) -> int:
    config = load_settings(PROG, load_gauge_config, argv)
    if config is None:
        return 2
    setup_logging(config.log_level)
    from gauge.runner import run

    return run(config)
