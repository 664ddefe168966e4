"""Pimoroni's blinkt library: RPi.GPIO over /dev/gpiomem (bare metal, or a container
run with --device /dev/gpiomem). Imported lazily: off a Pi RPi.GPIO raises
RuntimeError at import."""

from __future__ import annotations

from types import ModuleType

from agent.display.base import Display, DisplayError
from agent.frames import Frame


class BlinktDisplay(Display):
    name = "blinkt"

    def __init__(self) -> None:
        super().__init__()
        try:
            import blinkt
        except (ImportError, RuntimeError) as exc:
            raise DisplayError(f"the blinkt library cannot run here ({exc})") from None
        self._blinkt: ModuleType = blinkt
        blinkt.set_clear_on_exit(False)  # we clear ourselves, in our shutdown order

    def _write(self, frame: Frame) -> None:
        for x, (r, g, b, brightness) in enumerate(frame):
            self._blinkt.set_pixel(x, r, g, b, brightness)
        self._blinkt.show()
