"""Fake hardware at the very edge: a /sys/class/gpio tree, and where the fake RPi lives."""

from __future__ import annotations

from pathlib import Path

from tests.apa102_decode import DecodedPixel, frames_from_bits

FAKES = Path(__file__).parent / "fakes"  # RPi.GPIO that records pin levels


def make_sysfs_tree(
    tmp_path: Path, base: int = 512, label: str = "pinctrl-bcm2835", with_pins: bool = True
) -> Path:
    """A /sys/class/gpio as a Pi's kernel shows it (base 512 since kernel 6.6)."""
    root = tmp_path / "gpio"
    root.mkdir(parents=True)
    (root / "export").write_text("")
    (root / "unexport").write_text("")
    chips = [(base, label, 54), (base + 58, "raspberrypi-exp-gpio", 8)]  # and the firmware's
    for chip_base, chip_label, ngpio in chips:
        chip = root / f"gpiochip{chip_base}"
        chip.mkdir()
        (chip / "base").write_text(f"{chip_base}\n")
        (chip / "label").write_text(f"{chip_label}\n")
        (chip / "ngpio").write_text(f"{ngpio}\n")
    if with_pins:  # what the kernel makes on export
        for n in (base + 23, base + 24):
            (root / f"gpio{n}").mkdir()
            (root / f"gpio{n}" / "direction").write_text("in")
            (root / f"gpio{n}" / "value").write_text("")
    return root


def sysfs_frames(root: Path, base: int) -> list[list[DecodedPixel]]:
    data = (root / f"gpio{base + 23}" / "value").read_text()
    clock = (root / f"gpio{base + 24}" / "value").read_text()
    assert clock == "10" * len(data), "one data write, then clock high and low, per bit"
    return frames_from_bits([int(c) for c in data])
