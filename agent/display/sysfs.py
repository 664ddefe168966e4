"""APA102 bit-banged through /sys/class/gpio: the backend for Swarm services.

Swarm services get neither --privileged nor --device, so /dev/gpiomem is out of
reach; a bind-mounted /sys is not. Since kernel 6.6 the sysfs GPIO numbers are
offset (the Pi's controller often starts at 512): the base is read from the
gpiochip whose label names the Pi's GPIO controller, never assumed.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

from agent.display.apa102 import frame_bits
from agent.display.base import Display, DisplayError
from agent.frames import Frame

SYSFS_GPIO = Path("/sys/class/gpio")
DATA_BCM = 23  # Blinkt data, BCM numbering
CLOCK_BCM = 24  # Blinkt clock
# The Pi's own GPIO controller (Zero/1/2/3, 4, 5); not the firmware's expander.
PI_LABELS = ("pinctrl-bcm2835", "pinctrl-bcm2711", "pinctrl-bcm2712", "pinctrl-rp1")


def find_gpio_base(root: Path = SYSFS_GPIO) -> int:
    """The sysfs number of BCM GPIO 0: `base` of the Raspberry Pi's gpiochip."""
    labels = []
    for chip in sorted(root.glob("gpiochip*")):
        try:
            label = (chip / "label").read_text().strip()
            base = int((chip / "base").read_text().strip())
        except (OSError, ValueError):
            continue
        if label in PI_LABELS:
            return base
        labels.append(f"{chip.name}={label}")
    found = ", ".join(labels) or "no gpiochip at all"
    raise DisplayError(f"no Raspberry Pi GPIO controller under {root} ({found})")


class SysfsPin:
    """One exported output pin; its value file is held open for the whole run."""

    def __init__(self, root: Path, number: int) -> None:
        self.root = root
        self.number = number
        self._write_control("export", number, ok_errno=errno.EBUSY)  # EBUSY: exported already
        pin_dir = root / f"gpio{number}"
        deadline = time.monotonic() + 2.0
        while True:  # udev may need a moment to make the new files writable
            try:
                (pin_dir / "direction").write_text("out")
                break
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise DisplayError(f"cannot set {pin_dir}/direction: {exc.strerror}") from None
                time.sleep(0.05)
        self._fd = os.open(pin_dir / "value", os.O_WRONLY | os.O_APPEND)

    def _write_control(self, name: str, number: int, ok_errno: int | None = None) -> None:
        try:
            with open(self.root / name, "a") as f:
                f.write(f"{number}\n")
        except OSError as exc:
            if exc.errno != ok_errno:
                raise DisplayError(f"cannot write {self.root / name}: {exc.strerror}") from None

    def set(self, level: int) -> None:
        os.write(self._fd, b"1" if level else b"0")

    def close(self) -> None:
        os.close(self._fd)
        try:
            self._write_control("unexport", self.number)
        except DisplayError:
            pass  # leaving it exported does no harm


class SysfsDisplay(Display):
    """Clocks each bit out: data, then clock high, clock low (3 writes a bit)."""

    name = "sysfs"

    def __init__(self, root: Path = SYSFS_GPIO) -> None:
        super().__init__()
        base = find_gpio_base(root)
        if not os.access(root / "export", os.W_OK):
            raise DisplayError(f"{root}/export is not writable (bind-mount /sys read-write)")
        self.data = SysfsPin(root, base + DATA_BCM)
        try:
            self.clock = SysfsPin(root, base + CLOCK_BCM)
        except DisplayError:
            self.data.close()
            raise

    def _write(self, frame: Frame) -> None:
        data, clock = self.data, self.clock
        for bit in frame_bits(frame):
            data.set(bit)
            clock.set(1)
            clock.set(0)

    def _release(self) -> None:
        self.data.close()
        self.clock.close()
