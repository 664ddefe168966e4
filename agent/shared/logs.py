"""The programs' logs: one format for every program (setup_logging), and a problem
said once, not once a retry (SayOnce): the agent and the gauge retry every second or
so while a broker or Docker is away, and a log line each time would bury the news."""

from __future__ import annotations

import logging
import sys


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


class SayOnce:
    """Call with the problem now (None: none): a new one is logged, a repeat is not."""

    def __init__(self, log: logging.Logger, template: str = "%s") -> None:
        self.log = log
        self.template = template
        self.problem: str | None = None

    def __call__(self, problem: str | None) -> None:
        if problem != self.problem and problem is not None:
            self.log.warning(self.template, problem)
        self.problem = problem
