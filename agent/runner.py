"""The long-running agent: sample every interval until told to stop."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from agent.cli import make_swarm_sampler
from agent.config import AgentConfig
from agent.host import HostSampler
from agent.sample import resolve_node_name, take_sample

log = logging.getLogger("agent")


def install_stop_handlers(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set `stop`. Python as PID 1 ignores SIGTERM without a handler."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def run(config: AgentConfig, stop: threading.Event | None = None) -> int:
    stop = stop or threading.Event()
    install_stop_handlers(stop)
    host = HostSampler()
    swarm = make_swarm_sampler(config)
    node: str | None = None
    last_line = ""
    try:
        while not stop.is_set():
            sample = take_sample(host, swarm, config.capacity)
            node = node or resolve_node_name(config.node_name, sample.swarm)
            line = (
                f"{node}: strain {sample.strain.value:.2f} (cpu {sample.strain.cpu:.2f}, "
                f"memory {sample.strain.memory:.2f}, tasks {sample.swarm.tasks_running})"
            )
            if line != last_line:  # say what changed, not the same line every interval
                log.info("%s", line)
                last_line = line
            stop.wait(config.interval_s)
    finally:
        swarm.close()
    return 0
