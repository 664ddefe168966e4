"""Decode an APA102 bit stream back into pixels, written apart from the agent's encoder."""

from __future__ import annotations

from collections.abc import Iterable

DecodedPixel = tuple[int, int, int, int]  # r, g, b, 5-bit brightness


def bits_from_gpio(events: Iterable[tuple[int, int]], data_pin: int, clock_pin: int) -> list[int]:
    """The data level at every rising edge of the clock."""
    data, clock, bits = 0, 0, []
    for pin, level in events:
        if pin == data_pin:
            data = level
        elif pin == clock_pin:
            if level and not clock:
                bits.append(data)
            clock = level
    return bits


def frames_from_bits(bits: list[int], pixels: int = 8) -> list[list[DecodedPixel]]:
    """Every frame in the stream: 32 zero bits, then per pixel 111 + brightness, B, G, R."""
    frames, i = [], 0
    per_frame = 32 + pixels * 32
    while i + per_frame <= len(bits):
        if any(bits[i : i + 32]):
            i += 1  # not a start frame here: resynchronise
            continue
        frame: list[DecodedPixel] = []
        j = i + 32
        for _ in range(pixels):
            word = bits[j : j + 32]
            assert word[:3] == [1, 1, 1], f"pixel header {word[:3]} at bit {j}"
            field = int("".join(map(str, word[3:8])), 2)
            b, g, r = (int("".join(map(str, word[k : k + 8])), 2) for k in (8, 16, 24))
            frame.append((r, g, b, field))
            j += 32
        frames.append(frame)
        end = j
        while end < len(bits) and bits[end] == 0 and end - j < 36:
            end += 1
        assert end - j >= 36 or end == len(bits), f"only {end - j} end clocks"
        i = end
    return frames
