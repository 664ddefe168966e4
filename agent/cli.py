"""swarmgauge-agent: the command line."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence

from agent.host import HostSampler
from agent.sample import (
    make_swarm_sampler,
    resolve_node_name,
    sample_frame,
    sample_messages,
    take_sample,
)
from agent.settings.config import AgentConfig, load_agent_config
from agent.shared.logs import setup_logging
from agent.shared.settings.start import load_settings

PROG = "swarmgauge-agent"
# --once measures CPU use over this window: a single reading needs a span of time.
ONCE_WINDOW_S = 0.5

log = logging.getLogger("agent")


def run_once(config: AgentConfig) -> int:
    """Print the node snapshot (and, on any manager, the cluster snapshot) as JSON lines.

    A display named with --display (not auto) shows the sample's frame, which the node
    snapshot then carries in `leds`, and keeps it lit after exit: a participant trying
    the Blinkt sees their strain until the next run (--brightness 0 turns it off).
    """
    display = None
    if config.display not in ("auto", "none"):
        from agent.runner import open_agent_display

        display = open_agent_display(config, stream=sys.stderr)  # stdout carries the JSON
        if display is None:
            return 2
    started = time.monotonic()
    host = HostSampler()
    swarm = make_swarm_sampler(config, cluster="any")
    try:
        time.sleep(max(0.0, ONCE_WINDOW_S - (time.monotonic() - started)))
        sample = take_sample(host, swarm, config.capacity)
    finally:
        swarm.close()
    node = resolve_node_name(config.node_name, sample.swarm)
    frame = None
    if display is not None:
        frame = sample_frame(sample, config)
        display.show(frame)
        display.leave()
        log.info(
            "display: %s shows the frame and keeps it after exit"
            " (--once --display %s --brightness 0 turns it off)",
            display.name,
            config.display,
        )
    node_state, cluster_state = sample_messages(
        sample, node, config.capacity, config.interval_s, leds=frame
    )
    print(json.dumps(node_state, separators=(",", ":")))
    if cluster_state is not None:
        print(json.dumps(cluster_state, separators=(",", ":")))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    config = load_settings(PROG, load_agent_config, argv)
    if config is None:
        return 2
    setup_logging(config.log_level)
    if config.once:
        return run_once(config)
    from agent.runner import run

    return run(config)
