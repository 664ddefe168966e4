"""A recording RPi.GPIO: the hardware edge, faked for tests off a Raspberry Pi.

Every output() is kept as (pin, level) in `events`; when FAKE_GPIO_LOG names a
file, each is also appended there as "pin level" lines, so a test can read what a
separate agent process drove.
"""

from __future__ import annotations

import os

BCM = 11
BOARD = 10
OUT = 0
IN = 1

events: list[tuple[int, int]] = []
setup_pins: dict[int, int] = {}
mode: int | None = None
_log = (
    open(os.environ["FAKE_GPIO_LOG"], "a", buffering=1) if os.environ.get("FAKE_GPIO_LOG") else None
)


def setmode(m: int) -> None:
    global mode
    mode = m


def setwarnings(_flag: bool) -> None:
    pass


def setup(pin: int, direction: int, **_kwargs: object) -> None:
    setup_pins[pin] = direction


def output(pin: int, value: int) -> None:
    level = 1 if value else 0
    events.append((pin, level))
    if _log is not None:
        _log.write(f"{pin} {level}\n")


def cleanup(*_pins: object) -> None:
    setup_pins.clear()
