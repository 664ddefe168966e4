"""Eight coloured blocks in a terminal: the Blinkt for participants without one.

On a TTY the blocks are redrawn in place (24-bit colour where COLORTERM says so,
the 256-colour palette elsewhere); on anything else, one plain line per change.
"""

from __future__ import annotations

import logging
import os
from typing import TextIO

from agent.display.base import Display
from agent.frames import Frame

BLOCK = "\u2588\u2588"  # ██
RESET = "\x1b[0m"


def _cube(value: int) -> int:
    return 0 if value < 48 else (1 if value < 115 else (value - 35) // 40)


def ansi_colour(r: int, g: int, b: int, truecolor: bool) -> str:
    if truecolor:
        return f"\x1b[38;2;{r};{g};{b}m"
    return f"\x1b[38;5;{16 + 36 * _cube(r) + 6 * _cube(g) + _cube(b)}m"


def plain_line(frame: Frame) -> str:
    """'leds: 00ff00 00ff00 006600 off …' — the colours, brightness left out."""
    cells = [f"{r:02x}{g:02x}{b:02x}" if (r, g, b) != (0, 0, 0) else "off" for r, g, b, _ in frame]
    return "leds: " + " ".join(cells)


class TerminalDisplay(Display):
    name = "terminal"

    def __init__(self, stream: TextIO, tty: bool | None = None, truecolor: bool | None = None):
        super().__init__()
        self._stream = stream
        self._tty = stream.isatty() if tty is None else tty
        colorterm = os.environ.get("COLORTERM", "").lower()
        self._truecolor = colorterm in ("truecolor", "24bit") if truecolor is None else truecolor
        self._row = ""  # the LED row as last drawn on the TTY

    @property
    def tty(self) -> bool:
        return self._tty

    def _write(self, frame: Frame) -> None:
        if not self._tty:
            self._stream.write(plain_line(frame) + "\n")
        else:
            # Brightness is left out: 0.1 of a terminal colour would be near black.
            cells = [
                ansi_colour(r, g, b, self._truecolor) + BLOCK
                if (r, g, b) != (0, 0, 0)
                else "\x1b[38;5;236m" + BLOCK
                for r, g, b, _ in frame
            ]
            self._row = "\r" + " ".join(cells) + RESET + "\x1b[K"
            self._stream.write(self._row)
        self._stream.flush()

    def keep_below_logs(self, logger: logging.Logger) -> None:
        """Log lines on the same terminal go above the LED row, which is drawn again."""
        logger.handlers = [_AboveTheRow(h, self) for h in logger.handlers]

    def _lift(self) -> None:
        with self._lock:
            if self._row:
                self._stream.write("\r\x1b[K")
                self._stream.flush()

    def _redraw(self) -> None:
        with self._lock:
            if self._row and not self._closed:
                self._stream.write(self._row)
                self._stream.flush()

    def _release(self) -> None:
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()


class _AboveTheRow(logging.Handler):
    """Wraps a log handler: clear the LED row, log, draw the row again."""

    def __init__(self, inner: logging.Handler, display: TerminalDisplay) -> None:
        super().__init__(inner.level)
        self._inner = inner
        self._display = display

    def emit(self, record: logging.LogRecord) -> None:
        self._display._lift()
        self._inner.handle(record)
        self._display._redraw()
