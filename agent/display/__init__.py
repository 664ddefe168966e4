"""LED backends behind one interface, chosen by --display.

auto: blinkt where the library imports and /dev/gpiomem opens, else sysfs where a
Raspberry Pi gpiochip is writable, else terminal on a TTY, else none; the log says
which and why. A fake is never chosen: tests hand in their fakes explicitly.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from agent.display.base import Display, DisplayError
from agent.display.sysfs import SYSFS_GPIO, SysfsDisplay
from agent.display.terminal import TerminalDisplay

__all__ = ["Display", "DisplayError", "open_display"]

log = logging.getLogger("agent.display")
GPIOMEM = Path("/dev/gpiomem")


def _blinkt(gpiomem: Path) -> Display:
    try:
        with open(gpiomem, "rb"):
            pass
    except OSError as exc:
        raise DisplayError(f"cannot open {gpiomem} ({exc.strerror})") from None
    from agent.display.blinkt_display import BlinktDisplay

    return BlinktDisplay()


def open_display(
    kind: str,
    *,
    gpiomem: Path = GPIOMEM,
    sysfs_root: Path = SYSFS_GPIO,
    stream: TextIO | None = None,
) -> Display:
    """The backend named by kind; DisplayError says why a named one cannot run."""
    stream = stream or sys.stdout
    if kind == "blinkt":
        return _blinkt(gpiomem)
    if kind == "sysfs":
        return SysfsDisplay(sysfs_root)
    if kind == "terminal":
        return TerminalDisplay(stream)
    if kind == "none":
        return Display()
    if kind != "auto":
        raise DisplayError(f"unknown display {kind!r}")

    candidates: list[tuple[str, Callable[[], Display]]] = [
        ("blinkt", lambda: _blinkt(gpiomem)),
        ("sysfs", lambda: SysfsDisplay(sysfs_root)),
    ]
    passed: list[str] = []
    for name, make in candidates:
        try:
            display = make()
        except DisplayError as exc:
            passed.append(f"{name}: {exc}")
            continue
        log.info("display: %s (auto)%s", name, "".join(f"; not {p}" for p in passed))
        return display
    chosen: Display
    if stream.isatty():
        chosen, why = TerminalDisplay(stream), "standard output is a terminal"
    else:
        chosen, why = Display(), "no LEDs found and no terminal"
    log.info("display: %s (auto: %s)%s", chosen.name, why, "".join(f"; not {p}" for p in passed))
    return chosen
