"""LED frames: eight pixels as pure functions of a node's snapshot.

A pixel is (r, g, b, brightness): r, g, b from 0 to 255, brightness from 0 to 1.
Pixel 0 is the first on the Blinkt (next to the header's end).

Modes:
- strain: a bar graph of the node's strain, each pixel coloured by its position
  (green below --amber-at, amber below --red-at, red above); the last lit pixel
  glows in proportion to the part of it that is reached, in quarter steps, so
  that the jitter of an idle node's load does not rewrite the LEDs every sample.
- tasks: one pixel per running task, services in name order, each service in a
  colour of its own that stays the same everywhere (taken from its name); with more
  than eight tasks the last pixel is white: "and more".
- cluster: the gauge's strain of the whole Swarm (its state, `<prefix>/gauge/state`) as
  the strain bar shows a node's; all eight red while the gauge alarms; else, while the
  gauge knows nothing (none, offline, or its totals unknown), every other pixel dim
  white, "unknown": never a 0 bar, which would read as an idle Swarm.
- split: the node's strain on pixels 0-3, the cluster's on 4-7, each as a bar of four.
In strain, tasks and split, when Docker cannot be read, the node's last pixel is blue
(unless the bar lights it): the node is shown on host load alone.
"""

from __future__ import annotations

import colorsys
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from agent.strain import clamp01

NUM_PIXELS = 8
Pixel = tuple[int, int, int, float]
Frame = tuple[Pixel, ...]

OFF: Pixel = (0, 0, 0, 0.0)
GREEN = (0, 255, 0)
AMBER = (255, 140, 0)
RED = (255, 0, 0)
WHITE = (255, 255, 255)
BLUE = (0, 0, 255)


@dataclass(frozen=True)
class Thresholds:
    """Where the bar turns amber and red, as strain fractions (0 < amber < red ≤ 1)."""

    amber_at: float = 0.5
    red_at: float = 0.75


DEFAULT_THRESHOLDS = Thresholds()


def strain_band(strain: float, thresholds: Thresholds) -> str:
    """ "green", "amber" or "red": where strain (0 to 1) falls among the thresholds."""
    if strain >= thresholds.red_at:
        return "red"
    if strain >= thresholds.amber_at:
        return "amber"
    return "green"


BAND_COLOURS = {"green": GREEN, "amber": AMBER, "red": RED}


def strain_colour(strain: float, thresholds: Thresholds) -> tuple[int, int, int]:
    """The colour of strain's band: the agent's bar and the gauge's node pixels."""
    return BAND_COLOURS[strain_band(strain, thresholds)]


def _scaled(rgb: tuple[int, int, int], fraction: float) -> tuple[int, int, int]:
    r, g, b = rgb
    return (round(r * fraction), round(g * fraction), round(b * fraction))


def strain_frame(
    strain: float,
    brightness: float,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    docker_ok: bool = True,
) -> Frame:
    """The bar graph for strain (0 to 1) at brightness (0 to 1)."""
    return _docker_sign(_bar(strain, NUM_PIXELS, brightness, thresholds), brightness, docker_ok)


def _bar(strain: float, size: int, brightness: float, thresholds: Thresholds) -> list[Pixel]:
    """A bar of `size` pixels; pixel i coloured by the strain where it starts."""
    lit = clamp01(strain) * size
    pixels: list[Pixel] = []
    for i in range(size):
        # how much of pixel i the bar covers, to the nearest quarter
        reached = round(clamp01(lit - i) * 4) / 4
        if reached <= 0.0:
            pixels.append(OFF)
        else:
            colour = strain_colour(i / size, thresholds)
            pixels.append((*_scaled(colour, reached), brightness))
    return pixels


@dataclass(frozen=True)
class ClusterLeds:
    """What --led-mode cluster and split show of the gauge's state: its strain (None:
    unknown) and whether it alarms."""

    strain: float | None
    alarm: bool = False


UNKNOWN_CLUSTER = ClusterLeds(None)
# "unknown": white at a quarter, dim beside any bar. By colour, not by brightness: an
# APA102's brightness has 5 bits, and a quarter of the default 0.1 rounds to 0 (dark)
UNKNOWN_WHITE = _scaled(WHITE, 0.25)


def _cluster_bar(
    cluster: ClusterLeds, size: int, brightness: float, thresholds: Thresholds
) -> list[Pixel]:
    if cluster.alarm:  # the gauge alarms, whatever else it knows: loudly
        return [(*RED, brightness)] * size
    if cluster.strain is None:
        dim = (*UNKNOWN_WHITE, brightness)
        return [dim if i % 2 == 0 else OFF for i in range(size)]
    return _bar(cluster.strain, size, brightness, thresholds)


def cluster_frame(
    cluster: ClusterLeds, brightness: float, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Frame:
    """--led-mode cluster: the whole Swarm's strain, its alarm, or "unknown"."""
    return tuple(_cluster_bar(cluster, NUM_PIXELS, brightness, thresholds))


def split_frame(
    strain: float,
    cluster: ClusterLeds,
    brightness: float,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    docker_ok: bool = True,
) -> Frame:
    """--led-mode split: the node on pixels 0-3 (its Docker sign on 3), the cluster on 4-7."""
    half = NUM_PIXELS // 2
    node = list(_docker_sign(_bar(strain, half, brightness, thresholds), brightness, docker_ok))
    return (*node, *_cluster_bar(cluster, half, brightness, thresholds))


def service_colour(name: str) -> tuple[int, int, int]:
    """A bright colour of the service's own, the same on every node and every run."""
    hue = (zlib.crc32(name.encode()) % 360) / 360.0
    r, g, b = colorsys.hsv_to_rgb(hue, 1.0, 1.0)
    return (round(r * 255), round(g * 255), round(b * 255))


def tasks_frame(
    tasks_by_service: Mapping[str, int], brightness: float, docker_ok: bool = True
) -> Frame:
    """One pixel per running task; white on the last pixel when there are more than 8."""
    colours = [
        service_colour(name)
        for name in sorted(tasks_by_service)
        for _ in range(tasks_by_service[name])
    ]
    pixels: list[Pixel] = [(*rgb, brightness) for rgb in colours[:NUM_PIXELS]]
    if len(colours) > NUM_PIXELS:
        pixels[-1] = (*WHITE, brightness)
    pixels += [OFF] * (NUM_PIXELS - len(pixels))
    return _docker_sign(pixels, brightness, docker_ok)


def _docker_sign(pixels: list[Pixel], brightness: float, docker_ok: bool) -> Frame:
    """Blue on the last pixel while Docker cannot be read (unless the bar lights it)."""
    if not docker_ok and pixels[-1] == OFF:
        pixels[-1] = (*BLUE, brightness)
    return tuple(pixels)


def identify_frame(lit: bool, brightness: float) -> Frame:
    """Identify's flash: all eight white (lit) or dark, in turn."""
    return ((*WHITE, brightness),) * NUM_PIXELS if lit else blank_frame()


FLASH_S = 0.5  # identify: half a second lit, half dark


def blank_frame() -> Frame:
    return (OFF,) * NUM_PIXELS


def frame_for(
    mode: str,
    *,
    strain: float,
    tasks_by_service: Mapping[str, int],
    docker_ok: bool,
    brightness: float,
    thresholds: Thresholds,
    cluster: ClusterLeds = UNKNOWN_CLUSTER,
) -> Frame:
    """The frame for --led-mode strain, tasks, cluster or split."""
    if mode == "tasks":
        return tasks_frame(tasks_by_service, brightness, docker_ok)
    if mode == "cluster":
        return cluster_frame(cluster, brightness, thresholds)
    if mode == "split":
        return split_frame(strain, cluster, brightness, thresholds, docker_ok)
    return strain_frame(strain, brightness, thresholds, docker_ok)
