"""APA102 on the wire, as the Blinkt wants it: the bits to clock out for a frame.

32 zero bits (start frame); per pixel 0b111 + 5-bit brightness, then blue, green,
red, 8 bits each, most significant first; then 36 clocks of zeros to latch the
last pixels (the Blinkt's small dark-die LEDs need that many).
"""

from __future__ import annotations

from agent.frames import Frame
from agent.strain import clamp01

START_BITS = 32
END_CLOCKS = 36


def brightness_field(brightness: float) -> int:
    """The 5-bit brightness (0 to 31) for brightness 0 to 1, as Pimoroni's blinkt does."""
    return int(31.0 * clamp01(brightness)) & 0b11111


def _byte_bits(byte: int) -> list[int]:
    return [(byte >> shift) & 1 for shift in range(7, -1, -1)]


def frame_bits(frame: Frame) -> list[int]:
    """Every data bit to clock out for frame, start and end frames included."""
    bits = [0] * START_BITS
    for r, g, b, brightness in frame:
        bits += _byte_bits(0b11100000 | brightness_field(brightness))
        bits += _byte_bits(b) + _byte_bits(g) + _byte_bits(r)
    return bits + [0] * END_CLOCKS
