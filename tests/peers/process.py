"""What every peer a test starts needs: an end by its pid, and the tail of its log."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Self


def end(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM, then SIGKILL if it is still there after grace_s; reaped either way."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Peer:
    """A server process a test starts (start() in the subclass) and ends by its pid."""

    grace_s = 5.0  # after SIGTERM, before SIGKILL
    proc: subprocess.Popen[bytes] | None
    log_path: Path

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        if self.proc is not None:
            end(self.proc, self.grace_s)
        self.proc = None

    def log_tail(self, lines: int = 20) -> str:
        return log_tail(self.log_path, lines)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
