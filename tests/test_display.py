"""LED backends at the hardware edge: the real blinkt library on a recording RPi.GPIO,
the sysfs backend on a temp /sys/class/gpio tree, the terminal, and `auto`."""

from __future__ import annotations

import importlib
import io
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from agent.display import Display, DisplayError, open_display
from agent.display.sysfs import SysfsDisplay, find_gpio_base
from agent.display.terminal import TerminalDisplay
from agent.frames import Frame, service_colour, strain_frame, tasks_frame
from tests.apa102_decode import DecodedPixel, bits_from_gpio, frames_from_bits
from tests.fake_hardware import FAKES, make_sysfs_tree, sysfs_frames

EXPECTED: dict[str, list[DecodedPixel]] = {
    # brightness 0.1 -> 5-bit field int(31 * 0.1) = 3
    "strain 0": [(0, 0, 0, 0)] * 8,
    "strain 0.3": [(0, 255, 0, 3)] * 2 + [(0, 128, 0, 3)] + [(0, 0, 0, 0)] * 5,
    "strain 0.75": [(0, 255, 0, 3)] * 4 + [(255, 140, 0, 3)] * 2 + [(0, 0, 0, 0)] * 2,
    "strain 1.0": [(0, 255, 0, 3)] * 4 + [(255, 140, 0, 3)] * 2 + [(255, 0, 0, 3)] * 2,
    "three services": (
        [(*service_colour("cache"), 3)]
        + [(*service_colour("db"), 3)] * 2
        + [(*service_colour("web"), 3)] * 3
        + [(0, 0, 0, 0)] * 2
    ),
}
FRAMES: dict[str, Frame] = {
    "strain 0": strain_frame(0.0, 0.1),
    "strain 0.3": strain_frame(0.3, 0.1),
    "strain 0.75": strain_frame(0.75, 0.1),
    "strain 1.0": strain_frame(1.0, 0.1),
    "three services": tasks_frame({"web": 3, "db": 2, "cache": 1}, 0.1),
}


@pytest.fixture
def fake_gpio(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The recording RPi.GPIO in place of the real one, and blinkt imported fresh on it."""
    for name in ("RPi", "RPi.GPIO", "blinkt"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(FAKES))
    gpio = importlib.import_module("RPi.GPIO")
    yield gpio
    for name in ("RPi", "RPi.GPIO", "blinkt"):
        sys.modules.pop(name, None)


@pytest.mark.parametrize("name", list(FRAMES))
def test_blinkt_library_on_recording_gpio(fake_gpio: ModuleType, name: str) -> None:
    display = open_display("blinkt", gpiomem=Path("/dev/null"))
    assert display.name == "blinkt"
    assert display.show(FRAMES[name])
    decoded = frames_from_bits(bits_from_gpio(fake_gpio.events, data_pin=23, clock_pin=24))
    assert decoded == [EXPECTED[name]]


@pytest.mark.parametrize("name", list(FRAMES))
def test_sysfs_on_a_kernel_6_6_tree(tmp_path: Path, name: str) -> None:
    root = make_sysfs_tree(tmp_path, base=512)
    with SysfsDisplay(root) as display:
        display.show(FRAMES[name])
        assert (root / "export").read_text() == "535\n536\n"  # BCM 23, 24 shifted by 512
        assert (root / "gpio535" / "direction").read_text() == "out"
        assert (root / "gpio536" / "direction").read_text() == "out"
        assert sysfs_frames(root, 512) == [EXPECTED[name]]
    # close() clears the LEDs, then unexports
    assert sysfs_frames(root, 512)[-1] == EXPECTED["strain 0"]
    assert (root / "unexport").read_text() == "535\n536\n"


def test_sysfs_on_an_older_kernel_with_base_0(tmp_path: Path) -> None:
    root = make_sysfs_tree(tmp_path, base=0)
    assert find_gpio_base(root) == 0
    with SysfsDisplay(root) as display:
        display.show(FRAMES["strain 1.0"])
        assert sysfs_frames(root, 0) == [EXPECTED["strain 1.0"]]
    assert (root / "export").read_text() == "23\n24\n"


def test_sysfs_and_blinkt_put_the_same_bits_on_the_wire(
    fake_gpio: ModuleType, tmp_path: Path
) -> None:
    root = make_sysfs_tree(tmp_path)
    frame = FRAMES["three services"]
    with SysfsDisplay(root) as sysfs:
        sysfs.show(frame)
        blinkt = open_display("blinkt", gpiomem=Path("/dev/null"))
        blinkt.show(frame)
        wire = bits_from_gpio(fake_gpio.events, 23, 24)
        data = [int(c) for c in (root / "gpio535" / "value").read_text()]
        assert data == wire


def test_sysfs_without_a_pi_gpiochip_says_so(tmp_path: Path) -> None:
    root = make_sysfs_tree(tmp_path, label="gpio-mockup-A", with_pins=False)
    with pytest.raises(DisplayError, match=r"no Raspberry Pi GPIO controller.*gpio-mockup-A"):
        SysfsDisplay(root)
    with pytest.raises(DisplayError, match="no gpiochip at all"):
        SysfsDisplay(tmp_path)


def test_unchanged_frames_are_written_once(tmp_path: Path) -> None:
    root = make_sysfs_tree(tmp_path)
    display = SysfsDisplay(root)
    written = [display.show(strain_frame(0.4, 0.1)) for _ in range(100)]
    assert written == [True] + [False] * 99
    assert len(sysfs_frames(root, 512)) == 1
    display.close()
    display.close()  # idempotent
    assert not display.show(strain_frame(0.9, 0.1))  # closed: nothing more is drawn


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_redraws_in_place_on_a_tty() -> None:
    out = FakeTty()
    display = TerminalDisplay(out, truecolor=True)
    display.show(strain_frame(1.0, 0.1))
    display.show(strain_frame(0.5, 0.1))
    text = out.getvalue()
    assert text.count("\r") == 2 and "\n" not in text
    assert "\x1b[38;2;255;0;0m" in text  # 24-bit red for the full bar


def test_terminal_prints_one_plain_line_per_change_elsewhere() -> None:
    out = io.StringIO()
    display = TerminalDisplay(out)
    for strain in (0.25, 0.25, 0.25, 1.0):
        display.show(strain_frame(strain, 0.1))
    assert out.getvalue().splitlines() == [
        "leds: 00ff00 00ff00 off off off off off off",
        "leds: 00ff00 00ff00 00ff00 00ff00 ff8c00 ff8c00 ff0000 ff0000",
    ]


def test_auto_picks_blinkt_where_gpiomem_opens(fake_gpio: ModuleType, tmp_path: Path) -> None:
    gpiomem = tmp_path / "gpiomem"
    gpiomem.write_bytes(b"")
    display = open_display("auto", gpiomem=gpiomem, sysfs_root=make_sysfs_tree(tmp_path))
    assert display.name == "blinkt"


def test_auto_picks_sysfs_without_gpiomem(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    display = open_display(
        "auto", gpiomem=tmp_path / "none", sysfs_root=make_sysfs_tree(tmp_path), stream=FakeTty()
    )
    assert display.name == "sysfs"
    assert "display: sysfs (auto); not blinkt: cannot open" in caplog.text
    display.close()


@pytest.mark.parametrize(("stream", "expected"), [(FakeTty(), "terminal"), (io.StringIO(), "none")])
def test_auto_falls_back_to_terminal_then_none(
    tmp_path: Path, stream: io.StringIO, expected: str
) -> None:
    display = open_display("auto", gpiomem=tmp_path / "none", sysfs_root=tmp_path, stream=stream)
    assert display.name == expected
    assert type(display) is (TerminalDisplay if expected == "terminal" else Display)


def test_named_backend_that_cannot_run_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DisplayError, match="cannot open"):
        open_display("blinkt", gpiomem=tmp_path / "none")


def test_terminal_keeps_log_lines_above_the_led_row() -> None:
    out = FakeTty()
    display = TerminalDisplay(out, truecolor=True)
    logger = logging.getLogger("test.terminal.logs")
    logger.propagate = False
    logger.handlers = [logging.StreamHandler(out)]
    display.keep_below_logs(logger)
    display.show(strain_frame(1.0, 0.1))
    row = out.getvalue()
    logger.warning("broker gone")
    # the row is cleared, the log line printed, the row drawn again below it
    assert out.getvalue() == row + "\r\x1b[K" + "broker gone\n" + row
