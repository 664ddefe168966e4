"""The physical gauge through gpiozero: a servo needle, an LED bar graph, an alarm LED,
and a Blinkt with one pixel per node. Each is optional; the pin factory comes from
GPIOZERO_PIN_FACTORY (mock in tests and demos)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent.display import Display
from agent.frames import DEFAULT_THRESHOLDS, OFF, Frame, Pixel, Thresholds, strain_colour
from agent.strain import clamp01
from gauge.summary import alarm

# The needle moves by this share of the remaining way per tick (every TICK_S).
SMOOTHING = 0.35
TICK_S = 0.05
SETTLED_DEGREES = 0.5
SETTLE_TICKS = 10  # held this long at the target, then detached: no judder, no load


class Needle:
    """An AngularServo that glides to the strain's angle and lets go once there."""

    def __init__(self, pin: int, min_angle: float, max_angle: float) -> None:
        from gpiozero import AngularServo

        self.min_angle, self.max_angle = min_angle, max_angle
        self.servo = AngularServo(pin, min_angle=min_angle, max_angle=max_angle)
        self.servo.detach()
        self.angle = min_angle  # where it was last driven
        self.target_angle = min_angle
        self._held = SETTLE_TICKS  # at rest

    def angle_for(self, strain: float) -> float:
        """min_angle at strain 0, max_angle at strain 1."""
        return self.min_angle + clamp01(strain) * (self.max_angle - self.min_angle)

    def point_at(self, strain: float) -> None:
        target = self.angle_for(strain)
        if abs(target - self.target_angle) > 1e-9:
            self.target_angle = target
            self._held = 0

    @property
    def moving(self) -> bool:
        """True while tick() has work to do."""
        return self._held < SETTLE_TICKS

    def tick(self) -> None:
        if not self.moving:
            return
        gap = self.target_angle - self.angle
        if abs(gap) <= SETTLED_DEGREES:
            self.angle = self.target_angle
            self._held += 1
        else:
            self.angle += gap * SMOOTHING
        self.servo.angle = self.angle
        if not self.moving:
            self.servo.detach()

    def close(self) -> None:
        self.servo.close()


def node_pixel(node: dict[str, Any], brightness: float, thresholds: Thresholds) -> Pixel:
    """One node on the gauge's Blinkt: its strain's colour; blue when stale; off when
    offline or down (Swarm says so)."""
    if not node["online"] or node.get("down"):
        return OFF
    if node["stale"]:
        return (0, 0, 255, brightness)
    return (*strain_colour(node["strain"], thresholds), brightness)


def nodes_frame(
    nodes: Sequence[dict[str, Any]], brightness: float, thresholds: Thresholds
) -> Frame:
    pixels = [node_pixel(n, brightness, thresholds) for n in nodes[:8]]
    return tuple(pixels + [OFF] * (8 - len(pixels)))


def bar_lit(strain: float, count: int) -> int:
    """How many of the bar's `count` LEDs strain lights (gpiozero's rule for on/off LEDs:
    LED i is lit from strain (i + 1) / count)."""
    return sum(clamp01(strain) >= (i + 1) / count for i in range(count))


class Outputs:
    """Everything the gauge drives, updated from /api/cluster's snapshot."""

    def __init__(
        self,
        needle: Needle | None = None,
        bar_pins: Sequence[int] = (),
        alarm_pin: int | None = None,
        alarm_at: float = 0.9,
        blinkt: Display | None = None,
        brightness: float = 0.1,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
    ) -> None:
        self.needle = needle
        self.bar: Any = None
        self.alarm: Any = None
        if bar_pins:
            from gpiozero import LEDBarGraph

            self.bar = LEDBarGraph(*bar_pins, pwm=False)
        if alarm_pin is not None:
            from gpiozero import LED

            self.alarm = LED(alarm_pin)
        self.alarm_at = alarm_at
        self.blinkt = blinkt
        self.brightness = brightness
        self.thresholds = thresholds

    def show(self, snapshot: dict[str, Any]) -> None:
        strain = snapshot["strain"]
        if strain is not None:  # unknown: needle and bar hold where they are, never fall to 0
            if self.needle is not None:
                self.needle.point_at(strain)
            if self.bar is not None:
                # the bar shows whole LEDs (pwm=False): its value is lit/len, never strain
                # itself; write only when the lit count changes
                lit = bar_lit(strain, len(self.bar))
                if round(self.bar.value * len(self.bar)) != lit:
                    self.bar.value = lit / len(self.bar)
        if self.alarm is not None:
            lit = alarm(snapshot, self.alarm_at)
            if bool(self.alarm.value) != lit:
                self.alarm.value = lit
        if self.blinkt is not None:
            self.blinkt.show(nodes_frame(snapshot["nodes"], self.brightness, self.thresholds))

    @property
    def moving(self) -> bool:
        return self.needle is not None and self.needle.moving

    def tick(self) -> None:
        if self.needle is not None:
            self.needle.tick()

    def close(self) -> None:
        """Needle let go, LEDs off."""
        for device in (self.bar, self.alarm):
            if device is not None:
                device.off()
        for device in (self.needle, self.bar, self.alarm):
            if device is not None:
                device.close()
        if self.blinkt is not None:
            self.blinkt.close()
