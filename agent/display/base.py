"""The one small interface every LED backend has: show a frame, clear, close.

Write-on-change lives here, once for all backends: a frame equal to the last one
written is not written again, so an idle node makes no GPIO writes at all.
"""

from __future__ import annotations

import threading

from agent.frames import Frame, blank_frame
from agent.shared.errors import SwarmgaugeError


class DisplayError(SwarmgaugeError, RuntimeError):
    """A display backend cannot run here; the message says why."""


class Display:
    """Base of the backends. Thread-safe; close() is idempotent and clears first."""

    name = "none"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: Frame | None = None
        self._closed = False
        self.frames_written = 0

    def show(self, frame: Frame) -> bool:
        """Write frame unless it is the one already shown. True if it was written."""
        with self._lock:
            if self._closed or frame == self._last:
                return False
            self._write(frame)
            self._last = frame
            self.frames_written += 1
            return True

    def clear(self) -> None:
        self.show(blank_frame())

    def close(self) -> None:
        """Clear the LEDs and let go of the hardware, in one step: no frame from
        another thread lands between the two."""
        with self._lock:
            if self._closed:
                return
            blank = blank_frame()
            if self._last != blank:
                self._write(blank)
                self._last = blank
                self.frames_written += 1
            self._closed = True
            self._release()

    def leave(self) -> None:
        """Let go of the hardware with the last frame still lit (APA102 LEDs hold what
        they were sent): for --once, whose frame should outlive the process."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._release()

    # --- what a backend provides ---------------------------------------------------------

    def _write(self, frame: Frame) -> None:
        """Put frame on the LEDs (called with the lock held, only for a new frame)."""

    def _release(self) -> None:
        """Free pins, files, handles."""

    def __enter__(self) -> Display:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
