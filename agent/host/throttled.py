"""A Raspberry Pi's throttling flags: under-voltage, frequency capping, throttling and
the soft temperature limit, now and since boot (the bits of `vcgencmd get_throttled`,
which the firmware driver also shows in sysfs)."""

from __future__ import annotations

from pathlib import Path

from agent.host.reading import Throttled

THROTTLED_PATH = Path("/sys/devices/platform/soc/soc:firmware/get_throttled")
# bit: name; the same condition since boot is the bit 16 places up
FLAGS = {0: "under_voltage", 1: "frequency_capped", 2: "throttled", 3: "soft_temperature_limit"}
SINCE_BOOT = 16


def parse_throttled(text: str) -> Throttled | None:
    """'50005', '0x50005' or 'throttled=0x50005' -> the flags; None if not that."""
    value = text.strip().removeprefix("throttled=")
    try:
        bits = int(value, 16)
    except ValueError:
        return None
    if not 0 <= bits < 1 << 32:
        return None
    return {
        "bits": bits,
        "now": [name for bit, name in FLAGS.items() if bits >> bit & 1],
        "since_boot": [name for bit, name in FLAGS.items() if bits >> (bit + SINCE_BOOT) & 1],
    }


def read_throttled(path: Path = THROTTLED_PATH) -> Throttled | None:
    """The flags from sysfs; None off a Pi (or where the firmware driver does not say)."""
    try:
        return parse_throttled(path.read_text()[:64])
    except OSError:
        return None
