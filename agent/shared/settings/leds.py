"""The LEDs' flags, the same for the agent and the gauge: which display, how bright,
where amber and red begin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.frames import Thresholds
from agent.shared.errors import ConfigError
from agent.shared.settings.options import Option, fraction, one_of

DISPLAYS = ("auto", "blinkt", "sysfs", "terminal", "none")


def led_options(display: str, what: str) -> list[Option]:
    """The LEDs' flags, the same for the agent and the gauge but for the default
    display and what it shows: --display, --brightness, --amber-at, --red-at."""
    return [
        Option("--display", one_of(*DISPLAYS), display, f"{what}: {'|'.join(DISPLAYS)}", "NAME"),
        Option("--brightness", fraction, 0.1, "LED brightness cap, 0 to 1", "0..1"),
        Option("--amber-at", fraction, 0.5, "strain shown amber", "0..1"),
        Option("--red-at", fraction, 0.75, "strain shown red", "0..1"),
    ]


def thresholds_from(values: Mapping[str, Any]) -> Thresholds:
    """--amber-at and --red-at, amber below red."""
    amber, red = values["amber_at"], values["red_at"]
    if not amber < red:
        raise ConfigError(f"--amber-at ({amber:g}) must be below --red-at ({red:g})")
    return Thresholds(amber, red)
